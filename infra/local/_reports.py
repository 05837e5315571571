"""`perso dev`'s `/reports/`: the sites, and each site's report drawn live from the local
counters (infra.report over the local backend's table and bucket).

    /reports/                          the sites with a published ruleset
    /reports/<site>                    the report (sequential intervals)
    /reports/<site>?experience=x&since=2026-11-01&intervals=fixed_horizon
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
from html import escape

from infra.report import TableTarget, read_report, render_html, render_index, site_ids
from lambdas.dal.cdn import CdnUnavailable
from lambdas.logic.report import ReportError
from lambdas.models.errors import StoreUnavailable
from lambdas.models.report import IntervalKind

__all__ = ["LocalReports", "Page"]

Page = tuple[int, str]  # (status, HTML)
_SITE = re.compile(r"[a-z0-9-]{1,64}")


class LocalReports:
    """Renders report pages from one table and bucket (the local backend's)."""

    def __init__(self, target: TableTarget) -> None:
        self.target = target
        # Drawing is CPU-bound and matplotlib keeps global state (fonts, rc): one at a time.
        self._lock = threading.Lock()

    def index(self) -> Page:
        try:
            return 200, render_index(site_ids(self.target))
        except (CdnUnavailable, StoreUnavailable) as exc:
            return 503, _problem("The local backend cannot be read", str(exc))

    def page(self, site: str, query: Mapping[str, list[str]]) -> Page:
        if not _SITE.fullmatch(site):
            return 404, _problem("No such report", f"{site!r} is not a site id.")
        try:
            since_text = _one(query, "since")
            since = date.fromisoformat(since_text) if since_text else None
        except ValueError:
            return 400, _problem("Bad date", "since must be a date like 2026-11-01.")
        intervals: IntervalKind = (
            "fixed_horizon" if _one(query, "intervals") == "fixed_horizon" else "sequential"
        )
        try:
            with self._lock:
                report = read_report(
                    self.target,
                    site,
                    now=datetime.now(UTC),
                    experience=_one(query, "experience"),
                    since=since,
                    intervals=intervals,
                )
                return 200, render_html(report)
        except ReportError as exc:
            return 404, _problem("No report", str(exc))
        except (CdnUnavailable, StoreUnavailable) as exc:
            return 503, _problem("The local backend cannot be read", str(exc))


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _problem(title: str, sentence: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f'<p>{escape(sentence)}</p><p><a href="/reports/">all reports</a></p></body></html>'
    )
