"""Use cases, one function each; no boto3 here (the store is passed in)."""

from __future__ import annotations

__all__: list[str] = []
