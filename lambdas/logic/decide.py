"""`POST /v1/decide`: `edge.decide` on the server, from a page's signals and the live ruleset.

The same core as the browser worker and `perso simulate` (`edge.decide.decide_signals`),
so a first view, an email or the call centre see what the web sees. Nothing is stored
and no profile is read: the answer depends on the signals, the consent, the visitor id
(only with consent) and the time. Beside the decisions the answer carries what the
loader stub applies before first paint on a new visitor's first view (`ops`, the device
cache's format: `lambdas.logic._ops`) and the span in which they hold (`valid`, epoch
ms: `edge.reads.valid_window`, cut at the unit of local time the ruleset reads).

The live ruleset is held in memory per site (`LiveRulesets`): loaded on the first
request, and its pointer re-read at most once per `POINTER_MAX_AGE` seconds (the
pointer's own `max-age`), the artifact fetched again only when the pointer names
another sha256.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from edge.artifact import ArtifactError, load
from edge.decide import decide_signals
from edge.model import Ruleset
from edge.reads import reads, valid_window
from lambdas.logic._ops import dom_ops
from lambdas.models.decide import DecideRequest, DecideResponse, DecisionOut, DomOp
from lambdas.models.errors import NotFound

__all__ = ["POINTER_MAX_AGE", "ArtifactSource", "LiveRulesets", "decide_view"]

POINTER_MAX_AGE = 60.0  # seconds: the pointer's `Cache-Control: max-age=60` (DESIGN §6)


class ArtifactSource(Protocol):
    def get_pointer(self, site: str) -> dict[str, Any] | None: ...

    def get_artifact(self, site: str, sha256: str) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class _Live:
    sha256: str
    ruleset: Ruleset
    checked: float  # monotonic seconds of the last pointer read


class LiveRulesets:
    """The live ruleset of each site, refreshed when its pointer changes.

    A pointer that cannot be followed (missing artifact, bad sha256) keeps the last good
    ruleset, as the browser does; with none, the site has nothing to decide with.
    """

    def __init__(
        self,
        source: ArtifactSource,
        *,
        max_age: float = POINTER_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._max_age = max_age
        self._clock = clock
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()

    def get(self, site: str) -> tuple[str, Ruleset]:
        """(sha256, ruleset) of the site's live artifact, or `NotFound`."""
        now = self._clock()
        live = self._live.get(site)
        if live is not None and now - live.checked < self._max_age:
            return live.sha256, live.ruleset
        with self._lock:
            live = self._refresh(site, self._live.get(site), now)
            self._live[site] = live
        return live.sha256, live.ruleset

    def forget(self) -> None:
        self._live.clear()

    def _refresh(self, site: str, live: _Live | None, now: float) -> _Live:
        pointer = self._source.get_pointer(site)
        sha = None if pointer is None else pointer.get("sha256")
        if not isinstance(sha, str):
            if live is not None:
                return _Live(live.sha256, live.ruleset, now)
            raise NotFound(f"site {site!r} has no published ruleset (rulesets/{site}/latest.json)")
        if live is not None and live.sha256 == sha:
            return _Live(sha, live.ruleset, now)
        data = self._source.get_artifact(site, sha)
        try:
            if data is None:
                raise ArtifactError(f"rulesets/{site}/{sha}.msgpack is missing")
            ruleset = load(data, sha256=sha)
        except ArtifactError as exc:
            if live is not None:
                return _Live(live.sha256, live.ruleset, now)
            raise NotFound(f"the live ruleset of site {site!r} is unusable: {exc}") from exc
        return _Live(sha, ruleset, now)


def decide_view(
    request: DecideRequest, *, ruleset: Ruleset, version: str, now: datetime
) -> DecideResponse:
    """Every slot's decision for one view, as the browser's first view would get it,
    with the DOM ops the loader stub applies and the window they hold in.

    >>> # decide_view(DecideRequest(site="demo-shop", signals={"url": "https://x/"}), ...)
    >>> # DecideResponse(version="ab12...", decisions=[DecisionOut(slot="hero", ...)],
    >>> #                ops=[DomOp(slot="hero", s="#hero h1", h="Bem-vindo")], valid=[...])
    """
    signals: dict[str, Any] = request.signals.model_dump(mode="json")
    signals["consent"] = request.consent.model_dump(mode="json")
    if request.visitor is not None:
        signals["visitor_id"] = request.visitor
    context, result = decide_signals(ruleset, signals, {}, now)
    selectors = {slot: s.selector for slot, s in ruleset.slots.items()}
    decisions = [
        {
            "slot": d.slot,
            # The page's runtime adopts what the stub applied by selector (dom.js adopt).
            "selector": selectors.get(d.slot, ""),
            "experience": d.experience,
            "variant": d.variant,
            "content": d.content,
            "reason": d.reason,
        }
        for d in result.decisions
    ]
    return DecideResponse(
        version=version,
        decisions=[DecisionOut.model_validate(d) for d in decisions],
        ops=[DomOp.model_validate(op) for op in dom_ops(decisions, selectors)],
        valid=valid_window(reads(ruleset), result.valid, signals=signals, context=context, now=now),
    )
