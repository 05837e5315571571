"""Every name, runtime constant and output id of the perso stack, in one place.

`perso deploy` / `perso rollback` read the stack outputs by these fixed ids.
"""

from __future__ import annotations

from lambdas.models import cdn as _cdn_layout

__all__ = [
    "ARCHITECTURE",
    "ARTIFACT_CACHE_CONTROL",
    "COUNTER_SHARDS",
    "FUNCTIONS",
    "LAMBDA_MEMORY_MB",
    "LAMBDA_TIMEOUT_S",
    "OUTPUT_API_URL",
    "OUTPUT_BUCKET",
    "OUTPUT_CDN_DOMAIN",
    "OUTPUT_DISTRIBUTION",
    "OUTPUT_TABLE",
    "POINTER_CACHE_CONTROL",
    "PUBLISH_RATE_MINUTES",
    "PYTHON_RUNTIME",
    "RETENTION_DAYS",
    "STACK_NAME",
    "STREAM_BATCH_SIZE",
    "STREAM_MAX_RETRIES",
    "TABLE_STREAM_VIEW",
    "TOKEN_KEY_SECRET",
    "TTL_ATTRIBUTE",
]

STACK_NAME = "PersoStack"

# Lambda runtime: one Python and one architecture for every function (Graviton is cheaper).
PYTHON_RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
LAMBDA_MEMORY_MB = 512
LAMBDA_TIMEOUT_S = 10

# name -> (handler, timeout seconds, memory MB)
FUNCTIONS: dict[str, tuple[str, int, int]] = {
    "collect": ("lambdas.handlers.collect.handler", LAMBDA_TIMEOUT_S, LAMBDA_MEMORY_MB),
    "privacy": ("lambdas.handlers.privacy.handler", LAMBDA_TIMEOUT_S, LAMBDA_MEMORY_MB),
    "ingest": ("lambdas.handlers.ingest.handler", 30, LAMBDA_MEMORY_MB),
    "decide": ("lambdas.handlers.decide.handler", LAMBDA_TIMEOUT_S, LAMBDA_MEMORY_MB),
    "aggregate": ("lambdas.handlers.aggregate.handler", 60, LAMBDA_MEMORY_MB),
    "publish": ("lambdas.handlers.publish.handler", 300, 1024),
}

# The table (lambdas/dal/TABLE.md).
TTL_ATTRIBUTE = "ttl"
TABLE_STREAM_VIEW = "NEW_AND_OLD_IMAGES"
RETENTION_DAYS = 395
COUNTER_SHARDS = 4

# Stream -> aggregate.
STREAM_BATCH_SIZE = 100
STREAM_MAX_RETRIES = 5

# EventBridge -> publish.
PUBLISH_RATE_MINUTES = 15

# CDN (DESIGN §6): the headers the publisher also writes on the objects.
ARTIFACT_CACHE_CONTROL = _cdn_layout.ARTIFACT_CACHE
POINTER_CACHE_CONTROL = _cdn_layout.POINTER_CACHE

# The visitor-token HMAC key: a Secrets Manager secret generated at deploy time (SSM
# SecureStrings cannot be created by CloudFormation), read by collect, privacy and ingest.
TOKEN_KEY_SECRET = "perso/token-key"

# Output ids: fixed, read by `perso deploy` (infra/cli/deploy.py).
OUTPUT_BUCKET = "PersoBucketName"
OUTPUT_DISTRIBUTION = "PersoDistributionId"
OUTPUT_CDN_DOMAIN = "PersoCdnDomain"
OUTPUT_API_URL = "PersoApiUrl"
OUTPUT_TABLE = "PersoTableName"
