"""Environment settings: the `PERSO_*` names, and one typed model validated at cold start.

The names are constants here so that whoever sets the environment (the CDK stack in
infra/cdk/stack.py, the local stack in infra/local/stack.py) writes what the functions read.

>>> Settings.model_validate({"table_name": "perso"}).retention_days
395
>>> Settings.model_validate({"table_name": "perso", "sites": "a, b"}).sites
('a', 'b')
"""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "ENV",
    "ENV_BUCKET",
    "ENV_CLOUDFRONT_ENDPOINT",
    "ENV_COUNTER_SHARDS",
    "ENV_DISTRIBUTION_ID",
    "ENV_DYNAMODB_ENDPOINT",
    "ENV_RETENTION_DAYS",
    "ENV_S3_ENDPOINT",
    "ENV_SITES",
    "ENV_SITE_CACHE_SECONDS",
    "ENV_TABLE",
    "ENV_TOKEN_KEY",
    "ENV_TOKEN_KEY_PARAMETER",
    "ENV_TOKEN_KEY_SECRET",
    "ENV_WRITE_ATTEMPTS",
    "Settings",
    "get_settings",
    "reset_settings",
]

ENV_TABLE = "PERSO_TABLE"
ENV_DYNAMODB_ENDPOINT = "PERSO_DYNAMODB_ENDPOINT"
ENV_TOKEN_KEY = "PERSO_TOKEN_KEY"
ENV_TOKEN_KEY_PARAMETER = "PERSO_TOKEN_KEY_PARAMETER"
ENV_TOKEN_KEY_SECRET = "PERSO_TOKEN_KEY_SECRET"
ENV_RETENTION_DAYS = "PERSO_RETENTION_DAYS"
ENV_WRITE_ATTEMPTS = "PERSO_WRITE_ATTEMPTS"
ENV_SITE_CACHE_SECONDS = "PERSO_SITE_CACHE_SECONDS"
ENV_BUCKET = "PERSO_BUCKET"
ENV_DISTRIBUTION_ID = "PERSO_DISTRIBUTION_ID"
ENV_S3_ENDPOINT = "PERSO_S3_ENDPOINT"
ENV_CLOUDFRONT_ENDPOINT = "PERSO_CLOUDFRONT_ENDPOINT"
ENV_SITES = "PERSO_SITES"
ENV_COUNTER_SHARDS = "PERSO_COUNTER_SHARDS"

# Settings field -> the environment variable it is read from.
ENV: dict[str, str] = {
    "table_name": ENV_TABLE,
    "dynamodb_endpoint": ENV_DYNAMODB_ENDPOINT,
    "token_key": ENV_TOKEN_KEY,
    "token_key_parameter": ENV_TOKEN_KEY_PARAMETER,
    "token_key_secret": ENV_TOKEN_KEY_SECRET,
    "retention_days": ENV_RETENTION_DAYS,
    "write_attempts": ENV_WRITE_ATTEMPTS,
    "site_cache_seconds": ENV_SITE_CACHE_SECONDS,
    "bucket": ENV_BUCKET,
    "distribution_id": ENV_DISTRIBUTION_ID,
    "s3_endpoint": ENV_S3_ENDPOINT,
    "cloudfront_endpoint": ENV_CLOUDFRONT_ENDPOINT,
    "sites": ENV_SITES,
    "counter_shards": ENV_COUNTER_SHARDS,
}


class Settings(BaseModel):
    """What a function needs from its environment (names in `ENV`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=3, max_length=255)
    # Local stacks and tests point boto3 at moto or dynalite; in AWS these stay unset.
    dynamodb_endpoint: str | None = None
    s3_endpoint: str | None = None
    cloudfront_endpoint: str | None = None
    # The HMAC key for visitor tokens (API functions): the env var locally, SSM or
    # Secrets Manager in AWS.
    token_key: str | None = Field(default=None, min_length=16)
    token_key_parameter: str | None = None
    token_key_secret: str | None = None
    retention_days: int = Field(default=395, ge=1, le=3650)
    write_attempts: int = Field(default=6, ge=1, le=12)
    site_cache_seconds: float = Field(default=60.0, ge=0)
    # The CDN bucket (publish only) and the CloudFront distribution to invalidate.
    bucket: str | None = None
    distribution_id: str | None = None
    # Sites to publish; empty means every site with a source or a pointer in the bucket.
    sites: tuple[str, ...] = ()
    counter_shards: int = Field(default=4, ge=1, le=64)

    @field_validator("sites", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    def require_token_key(self) -> Settings:
        """These settings, if they say where the token key is; the API functions need it."""
        if not (self.token_key or self.token_key_parameter or self.token_key_secret):
            raise RuntimeError(
                f"set {ENV_TOKEN_KEY} (locally) or {ENV_TOKEN_KEY_PARAMETER} / "
                f"{ENV_TOKEN_KEY_SECRET} (in AWS): visitor tokens need an HMAC key"
            )
        return self


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read and validate the environment once; a bad value fails the cold start loudly."""
    raw = {field: os.environ[env] for field, env in ENV.items() if os.environ.get(env)}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        names = ", ".join(ENV[str(e["loc"][0])] for e in exc.errors() if e["loc"])
        raise RuntimeError(f"invalid environment for perso lambdas ({names}): {exc}") from exc


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
