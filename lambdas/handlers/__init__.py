"""Lambda entry points: parse, call one logic function, shape the response."""

from __future__ import annotations

__all__: list[str] = []
