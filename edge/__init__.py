"""perso's decision core: pure Python that runs unchanged on CPython and in Pyodide.

Values in, values out: no I/O, clock or randomness inside. `conditions` (GrowthBook's
condition language), `context` (signals to attributes), `decide` (what each slot
shows), `bucketing`, `model` (the ruleset), `artifact` (its msgpack form), `reads` (what
a ruleset reads: the device cache's key and window), `bridge` (the browser worker's
entry points), and `compiler` (YAML to a ruleset; build time only, left out of the
browser wheel). Imports the standard library, msgpack and
cachetools only, and nothing of `lambdas` or `infra`.
"""

from __future__ import annotations

__all__: list[str] = []
__version__ = "0.1.0"
