"""The visitor-token HMAC key: env var locally; SSM or Secrets Manager in AWS.

Powertools Parameters caches the value (5 minutes by default), so a rotated key is picked
up without a redeploy.
"""

from __future__ import annotations

from lambdas.models.errors import StoreUnavailable
from lambdas.models.settings import Settings

__all__ = ["token_key"]


def token_key(settings: Settings) -> bytes:
    """The key bytes. `StoreUnavailable` if the parameter store cannot be read."""
    if settings.token_key:
        return settings.token_key.encode()
    from aws_lambda_powertools.utilities import parameters  # boto3 inside: dal only

    try:
        if settings.token_key_secret:
            value = parameters.get_secret(settings.token_key_secret, max_age=300)
        else:
            value = parameters.get_parameter(
                str(settings.token_key_parameter), decrypt=True, max_age=300
            )
    except parameters.exceptions.GetParameterError as exc:
        raise StoreUnavailable("the token key could not be read; retry later") from exc
    return value.encode() if isinstance(value, str) else bytes(value)
