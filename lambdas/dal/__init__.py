"""Data access: the only package that imports boto3. Layout in TABLE.md.

Owns the table (`store`, `counters`, `admin`), the CDN bucket (`cdn`), the secrets
(`secrets`) and the clients (`client`), each raising the project's own exceptions. May
import `lambdas.models` and nothing else of the project (boto3, botocore, cachetools and
Powertools' parameters besides the stdlib).
"""

from __future__ import annotations

__all__: list[str] = []
