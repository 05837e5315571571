"""Typed models of the API: settings, request/response bodies, errors."""

from __future__ import annotations

__all__: list[str] = []
