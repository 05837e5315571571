"""Data access: the only package that imports boto3. Layout in TABLE.md."""

from __future__ import annotations

__all__: list[str] = []
