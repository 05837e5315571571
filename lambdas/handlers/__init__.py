"""Lambda entry points: parse the event, call one logic function, shape the response.

Owns one module per function (collect, privacy, ingest: the HTTP API; aggregate: the
table's stream; publish: the schedule), the HTTP plumbing they share (`api`, `_common`),
and the per-process wiring of settings, store and clients. May import `lambdas.logic`,
`lambdas.dal` (to build the store and clients a logic function is given) and
`lambdas.models`; never `infra`.
"""

from __future__ import annotations

__all__: list[str] = []
