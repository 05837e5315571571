"""Environment settings of the learning functions (aggregate, publish), validated once.

The API functions have theirs in `lambdas.models.settings` (they also need the token key).

>>> LearnSettings.model_validate({"table_name": "perso", "sites": "a, b"}).sites
('a', 'b')
"""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["LearnSettings", "get_learn_settings", "reset_learn_settings"]

_ENV = {
    "table_name": "PERSO_TABLE",
    "dynamodb_endpoint": "PERSO_DYNAMODB_ENDPOINT",
    "bucket": "PERSO_BUCKET",
    "distribution_id": "PERSO_DISTRIBUTION_ID",
    "s3_endpoint": "PERSO_S3_ENDPOINT",
    "cloudfront_endpoint": "PERSO_CLOUDFRONT_ENDPOINT",
    "sites": "PERSO_SITES",
    "counter_shards": "PERSO_COUNTER_SHARDS",
}


class LearnSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=3, max_length=255)
    dynamodb_endpoint: str | None = None
    # The CDN bucket (publish only) and the CloudFront distribution to invalidate.
    bucket: str | None = None
    distribution_id: str | None = None
    # Local stacks point boto3 at moto; in AWS these stay unset.
    s3_endpoint: str | None = None
    cloudfront_endpoint: str | None = None
    # Sites to publish; empty means every site with a source or a pointer in the bucket.
    sites: tuple[str, ...] = ()
    counter_shards: int = Field(default=4, ge=1, le=64)

    @field_validator("sites", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value


@functools.lru_cache(maxsize=1)
def get_learn_settings() -> LearnSettings:
    """Read the environment once; a bad value fails the cold start with the variable names."""
    raw = {field: os.environ[env] for field, env in _ENV.items() if os.environ.get(env)}
    try:
        return LearnSettings.model_validate(raw)
    except ValidationError as exc:
        names = ", ".join(_ENV[str(e["loc"][0])] for e in exc.errors() if e["loc"])
        raise RuntimeError(
            f"invalid environment for the perso learning functions ({names}): {exc}"
        ) from exc


def reset_learn_settings() -> None:
    get_learn_settings.cache_clear()
