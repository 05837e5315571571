"""What the rules see: raw browser signals to attributes (DESIGN §4).

>>> ctx = build_context({"languages": ["pt-BR", "en"], "local_time": "2026-11-25T19:30:00"})
>>> ctx["language"], ctx["local"]["hour"]
('pt', 19)

Owns `build_context` and `parse_time` (`_build`), the device classification (`_ua`:
Client Hints, User-Agent, touch points) and the acquisition channel (`_channel`: utm
parameters, referrer). Imports `edge.types` only.
"""

from __future__ import annotations

from edge.context._build import PROFILE_COUNTERS, build_context, parse_time

__all__ = ["PROFILE_COUNTERS", "build_context", "parse_time"]
