"""Reading and rendering experiment reports, for `perso report` and `perso dev`'s `/reports/`.

The statistics are `lambdas.logic.report`'s; this package finds the counters
(`TableTarget`: a table and a bucket, on AWS or on `perso dev`'s moto) and draws the
result: `render_table` (rich, a terminal), `render_html` (one self-contained page with
matplotlib's SVG charts), `render_json` (the documented object, README "Reading results").

    report = read_report(TableTarget(table="perso-events", bucket="perso-cdn"), "demo-shop",
                         now=datetime.now(UTC))
    print(render_json(report))

May import `lambdas` (logic, models; dal through `_source`), rich and matplotlib; never
`infra.cli`.
"""

from __future__ import annotations

import json

from infra.report._html import render_html, render_index
from infra.report._source import TableTarget, read_report, site_ids
from infra.report._table import render_table
from lambdas.models.report import Report

__all__ = [
    "TableTarget",
    "read_report",
    "render_html",
    "render_index",
    "render_json",
    "render_table",
    "site_ids",
]


def render_json(report: Report) -> str:
    """The report as the JSON object pipelines read (no NaN: undefined values are null)."""
    return json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n"
