"""Typed models shared by every layer: settings (with the `PERSO_*` names), the CDN
bucket's layout (`cdn`), counter rows and profile changes (`counters`), request and
response bodies (`events`, `openapi`), errors.

Imports nothing of the project; infra reads `settings` and `cdn` to set up what the
functions read.
"""

from __future__ import annotations

__all__: list[str] = []
