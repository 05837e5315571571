"""What the rules see: raw browser signals to attributes (DESIGN §4).

>>> ctx = build_context({"languages": ["pt-BR", "en"], "local_time": "2026-11-25T19:30:00"})
>>> ctx["language"], ctx["local"]["hour"]
('pt', 19)

Owns `build_context`, `parse_time`, `wall_clock` and `language_tag` (`_build`), the device
classification (`_ua`: Client Hints, User-Agent, touch points), the acquisition
channel (`_channel`: utm parameters, referrer) and the vocabulary: every attribute
path it builds with the shape of its values (`_vocabulary`: `ATTRIBUTES`, `attribute`,
read by the ruleset compiler and its JSON Schema). Imports `edge.types` only.
"""

from __future__ import annotations

from edge.context._build import (
    PROFILE_COUNTERS,
    build_context,
    language_tag,
    parse_time,
    wall_clock,
)
from edge.context._vocabulary import ATTRIBUTES, OPEN_NAMESPACES, Attribute, attribute

__all__ = [
    "ATTRIBUTES",
    "OPEN_NAMESPACES",
    "PROFILE_COUNTERS",
    "Attribute",
    "attribute",
    "build_context",
    "language_tag",
    "parse_time",
    "wall_clock",
]
