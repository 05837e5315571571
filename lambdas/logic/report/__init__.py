"""The experiment report, from counters only (never raw events): `report_site` reads the
live artifact and the site's experience rows, `build_report` turns them into a `Report`
(lambdas.models.report) that `perso report` and `perso dev`'s `/reports/` render.

Per experience and variant, for every declared goal: visitors, exposures, converting
visitors, rate, value, value per visitor, lift against control with its interval, the
p-value and the probability to beat control (rates and value per visitor), clicks on the
slot; the sample-ratio check against the weights that were live; the cumulative rate per
day; breakdowns by device, journey stage and new or returning (at first exposure). Beyond
one experience: the global holdout against everyone shown personalization, and
guardrails (`guardrail_goals`), and the progress toward the ruleset's `objective`
(`_objective`). A multivariate experience's combinations are its variants, and it adds
each factor's main effects and the two-way interactions (`_factorial`). Intervals are
sequential unless asked otherwise.

Problems a person can fix (an unknown site or experience, a start date in the future) raise
`ReportError` with one sentence; no data yet is an empty report that says so.

>>> artifact = {"site": "s", "holdout": 0.0, "experiences": [{"id": "x", "slot": "hero",
...     "goals": ["buy"], "variants": [{"id": "control", "weight": 0.5},
...                                     {"id": "b", "weight": 0.5}]}]}
>>> from datetime import datetime, UTC
>>> report = build_report(artifact, [], now=datetime(2026, 11, 25, tzinfo=UTC))
>>> report.notes[-1]
"no events have been counted for site 's' yet: the report fills in as visitors are exposed"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

import msgpack

from edge.artifact import ArtifactError, load
from lambdas.logic.report._cells import fold_cells
from lambdas.logic.report._compare import DEFAULT_EXPECTED_VISITORS, Options
from lambdas.logic.report._experience import experience_report, holdout_report
from lambdas.logic.report._objective import objective_report
from lambdas.models.counters import HOLDOUT, PERSONALIZED, Add, WeightsRecord
from lambdas.models.report import IntervalKind, Report

__all__ = [
    "DEFAULT_EXPECTED_VISITORS",
    "WELL_KNOWN_GUARDRAILS",
    "ReportError",
    "build_report",
    "guardrail_goals",
    "report_site",
]

# Goals whose rise is bad when the ruleset declares no `guardrails` (see `guardrail_goals`).
WELL_KNOWN_GUARDRAILS = ("unsubscribe", "bounce", "refund")


class ReportError(ValueError):
    """Something a person must fix: the sentence says what."""


class ArtifactSource(Protocol):
    def get_pointer(self, site: str) -> dict[str, Any] | None: ...
    def get_artifact(self, site: str, sha256: str) -> bytes | None: ...


class CounterSource(Protocol):
    def variant_rows(self, site: str, experience: str | None = None) -> list[Add]: ...
    def weight_history(self, site: str, experience: str | None = None) -> list[WeightsRecord]: ...


def guardrail_goals(artifact: Mapping[str, Any]) -> frozenset[str]:
    """Goal names whose rise hurts: the ruleset's `guardrails` (carried in the artifact),
    or, when it declares none, the well-known ones (the report says so).

    >>> sorted(guardrail_goals({"guardrails": ["complaint"]}))
    ['complaint']
    >>> sorted(guardrail_goals({}))
    ['bounce', 'refund', 'unsubscribe']
    """
    declared = artifact.get("guardrails")
    names = [str(g) for g in declared] if isinstance(declared, list | tuple) else []
    return frozenset(names or WELL_KNOWN_GUARDRAILS)


def report_site(
    site: str,
    *,
    cdn: ArtifactSource,
    counters: CounterSource,
    now: datetime,
    experience: str | None = None,
    since: date | None = None,
    intervals: IntervalKind = "sequential",
    expected_visitors: float = DEFAULT_EXPECTED_VISITORS,
) -> Report:
    """The report of `site` from its live artifact and its counters."""
    artifact = live_artifact(site, cdn)
    _check(artifact, site, experience=experience, since=since, now=now)
    if experience is None:
        rows = counters.variant_rows(site)
    else:
        rows = [
            row
            for name in (experience, HOLDOUT, PERSONALIZED)
            for row in counters.variant_rows(site, name)
        ]
    return build_report(
        artifact,
        rows,
        history=counters.weight_history(site, experience),
        now=now,
        experience=experience,
        since=since,
        intervals=intervals,
        expected_visitors=expected_visitors,
    )


def live_artifact(site: str, cdn: ArtifactSource) -> dict[str, Any]:
    """The artifact `latest.json` points at, as its dict (`Ruleset.to_dict()` shape)."""
    pointer = cdn.get_pointer(site)
    sha = None if pointer is None else pointer.get("sha256")
    if not isinstance(sha, str):
        raise ReportError(
            f"site {site!r} has no published ruleset (no rulesets/{site}/latest.json)."
        )
    data = cdn.get_artifact(site, sha)
    if data is None:
        raise ReportError(f"the live artifact of site {site!r} ({sha[:12]}) is missing.")
    try:
        load(data, sha256=sha)  # the checks the browser makes
    except ArtifactError as exc:
        raise ReportError(f"the live artifact of site {site!r} is unusable: {exc}") from exc
    payload: dict[str, Any] = msgpack.unpackb(data, raw=False)
    return payload


def build_report(
    artifact: Mapping[str, Any],
    rows: Iterable[Add],
    *,
    now: datetime,
    history: Sequence[WeightsRecord] = (),
    experience: str | None = None,
    since: date | None = None,
    intervals: IntervalKind = "sequential",
    alpha: float = 0.05,
    expected_visitors: float = DEFAULT_EXPECTED_VISITORS,
) -> Report:
    """A `Report` from the artifact's dict and the site's experience rows (any shard)."""
    site = str(artifact.get("site", ""))
    _check(artifact, site, experience=experience, since=since, now=now)
    options = Options(intervals, alpha, expected_visitors, now.astimezone(UTC))
    rows = list(rows)
    cells = fold_cells(rows, since=None if since is None else since.isoformat())
    guardrails = guardrail_goals(artifact)
    learned = (artifact.get("learned") or {}).get("weights") or {}
    specs = [e for e in artifact.get("experiences") or [] if experience in (None, e.get("id"))]
    reports = tuple(
        experience_report(
            spec,
            cells,
            guardrails=guardrails,
            history=history,
            learned=learned.get(spec.get("id")),
            options=options,
        )
        for spec in specs
    )
    site_goals = tuple(
        dict.fromkeys(g for e in artifact.get("experiences") or [] for g in e.get("goals") or [])
    )
    holdout = holdout_report(
        cells,
        share=float(artifact.get("holdout") or 0.0),
        scope="all" if artifact.get("holdout_scope") == "all" else "consent",
        goals=site_goals,
        guardrails=guardrails,
        options=options,
    )
    # The objective is measured over its own period (not --since): progress toward a
    # target per month is read on this month's counters.
    objective = objective_report(
        artifact.get("objective"), rows, share=float(artifact.get("holdout") or 0.0), now=now
    )
    notes = [_interval_note(options), "days are UTC; visitors count on their first exposure"]
    if not artifact.get("guardrails"):
        notes.append(
            "the ruleset declares no guardrails: unsubscribe, bounce and refund are watched "
            "(declare yours with guardrails: [...])"
        )
    if since is not None:
        notes.append(f"counters from {since.isoformat()} on")
    if not rows:
        notes.append(
            f"no events have been counted for site {site!r} yet: "
            "the report fills in as visitors are exposed"
        )
    return Report(
        site=site,
        generated_at=now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        intervals=intervals,
        alpha=alpha,
        experiences=reports,
        holdout=holdout,
        since=None if since is None else since.isoformat(),
        notes=tuple(notes),
        objective=objective,
    )


def _check(
    artifact: Mapping[str, Any],
    site: str,
    *,
    experience: str | None,
    since: date | None,
    now: datetime,
) -> None:
    today = now.astimezone(UTC).date()
    if since is not None and since > today:
        raise ReportError(
            f"the start date {since.isoformat()} is in the future (today is "
            f"{today.isoformat()}, UTC): there is nothing to report yet."
        )
    ids = [str(e.get("id")) for e in artifact.get("experiences") or []]
    if experience is not None and experience not in ids:
        known = ", ".join(ids) or "none"
        raise ReportError(
            f"experience {experience!r} is not in the live ruleset of site {site!r} "
            f"(its experiences: {known})."
        )


def _interval_note(options: Options) -> str:
    level = f"{1 - options.alpha:.0%}"
    if options.kind == "sequential":
        return (
            f"{level} intervals and p-values are sequential: they stay valid however often "
            f"you look (tuned for {options.expected_visitors:,.0f} visitors per comparison)"
        )
    return (
        f"{level} intervals and p-values are fixed-horizon: valid only when read once, at "
        "the sample size planned in advance"
    )
