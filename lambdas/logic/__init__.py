"""Use cases, one function each; no boto3 here (the store is passed in).

May import `edge` (the publisher compiles and encodes rulesets), `lambdas.models`, and the
store types of `lambdas.dal` it is handed; never `lambdas.handlers` or `infra`.
"""

from __future__ import annotations

__all__: list[str] = []
