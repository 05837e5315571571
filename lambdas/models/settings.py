"""Environment settings: one typed model, validated once at cold start.

>>> Settings.model_validate({"table_name": "perso"}).retention_days
395
"""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Settings", "get_settings", "reset_settings"]

_ENV = {
    "table_name": "PERSO_TABLE",
    "dynamodb_endpoint": "PERSO_DYNAMODB_ENDPOINT",
    "token_key": "PERSO_TOKEN_KEY",
    "token_key_parameter": "PERSO_TOKEN_KEY_PARAMETER",
    "token_key_secret": "PERSO_TOKEN_KEY_SECRET",
    "retention_days": "PERSO_RETENTION_DAYS",
    "write_attempts": "PERSO_WRITE_ATTEMPTS",
    "site_cache_seconds": "PERSO_SITE_CACHE_SECONDS",
}


class Settings(BaseModel):
    """What a function needs from its environment (names in `_ENV`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=3, max_length=255)
    # Local stacks and tests point boto3 at moto or dynalite; in AWS this stays unset.
    dynamodb_endpoint: str | None = None
    # The HMAC key for visitor tokens: the env var locally, SSM or Secrets Manager in AWS.
    token_key: str | None = Field(default=None, min_length=16)
    token_key_parameter: str | None = None
    token_key_secret: str | None = None
    retention_days: int = Field(default=395, ge=1, le=3650)
    write_attempts: int = Field(default=6, ge=1, le=12)
    site_cache_seconds: float = Field(default=60.0, ge=0)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read and validate the environment once; a bad value fails the cold start loudly."""
    raw = {field: os.environ[env] for field, env in _ENV.items() if os.environ.get(env)}
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        names = ", ".join(_ENV[str(e["loc"][0])] for e in exc.errors() if e["loc"])
        raise RuntimeError(f"invalid environment for perso lambdas ({names}): {exc}") from exc
    if not (settings.token_key or settings.token_key_parameter or settings.token_key_secret):
        raise RuntimeError(
            "set PERSO_TOKEN_KEY (locally) or PERSO_TOKEN_KEY_PARAMETER / "
            "PERSO_TOKEN_KEY_SECRET (in AWS): visitor tokens need an HMAC key"
        )
    return settings


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
