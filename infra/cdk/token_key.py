"""The visitor-token HMAC key: a generated Secrets Manager secret (never in the template)."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.cdk import constants

__all__ = ["TokenKey"]


class TokenKey(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.secret = self._build_secret()

    def _build_secret(self) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            self,
            "Secret",
            secret_name=constants.TOKEN_KEY_SECRET,
            description="perso visitor-token HMAC key",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
        )
