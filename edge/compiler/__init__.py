"""The ruleset compiler: YAML to a checked `Ruleset`, and the JSON Schema of the YAML.

Build time only: it needs PyYAML (imported lazily by `_yaml`) and zoneinfo, and the
wheel that ships to the browser leaves this folder out. Nothing else in `edge`
imports it.

>>> result = compile_text("site: demo\\nslots: {hero: h1}\\nexperiences: []\\n")
>>> result.ok, sorted(result.ruleset.slots)
(True, ['hero'])

Owns the reading of every part of a ruleset (`_ruleset`: the top; `_experiences`,
`_factors` and `_design`: a multivariate experience's factors and combinations,
`_content`, `_conditions`: `$segment` inlined, operators and regexes checked; `_dom`:
what content may do to the page, whose attribute rules `POST /v1/decide` applies too;
`_time`: schedules in time zones), the one `Checker` that collects a file's problems
(`_check`), the YAML reader with line numbers (`_yaml`) and `schema`. Imports
`edge.model`, `edge.artifact`, `edge.conditions` and `edge.limits`.
"""

from __future__ import annotations

from edge.compiler._check import Problem
from edge.compiler._dom import CONTENT_ATTRS, attr_problem, safe_url
from edge.compiler._ruleset import CompileResult, compile_file, compile_text
from edge.compiler.schema import json_schema

__all__ = [
    "CONTENT_ATTRS",
    "CompileResult",
    "Problem",
    "attr_problem",
    "compile_file",
    "compile_text",
    "json_schema",
    "safe_url",
]
