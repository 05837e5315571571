"""The worker's entry points: the only module that touches `js` / `pyodide.ffi`.

The decision worker (snippet/src/worker.js) calls two functions, passing and
receiving plain values (bytes in, JSON text both ways), so everything is converted
once, here, at the boundary:

- `load_artifact(data, sha256)` (or `load_artifact_file(path, sha256)`, which the worker
  uses): verify and load a ruleset artifact; it stays loaded for the following
  decisions. Returns `{"ok", "version", "site", "slots", "goals", "reads"}` or
  `{"ok": false, "error"}` as JSON; the previously loaded ruleset stays in use on error.
  `reads` is what the device's decision cache must key on (`edge.reads.Reads.to_dict()`:
  `{"parts", "profile", "custom", "query", "time"}`).
- `decide_json(signals_json, profile_json, now_iso)`: `edge.decide.decide_signals` (the
  context built from the signals, then `decide`, as `perso simulate` does), returned as
  JSON (`Result.to_dict()` with each decision's slot `selector` and
  `hide_until_decided` added, so the page needs no second lookup, and the context's
  `device` type, which the page's exposures carry for the report's breakdowns), and
  `valid`: `[from_ms, until_ms]`, epoch milliseconds (null: unbounded), in which the
  device may apply these decisions again to a view with the same key
  (`edge.reads.valid_window`: the schedules and caps decide read, cut at the next
  boundary of the unit of local time the ruleset reads, on the device's clock).
  A `forced` signal (`"exp:variant,..."`, the page's `?perso_force=`) is passed to
  `decide_signals(..., forced=)`: those slots come out with reason `forced` and no
  exposure (`edge.decide._force`).

Everything except `_to_bytes`'s JsProxy branch runs under plain CPython, which is how
tests/unit/test_bridge.py covers it.

>>> json.loads(decide_json("{}", "{}", "2026-01-01T00:00:00Z"))["error"]
'no ruleset is loaded; call load_artifact first'
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from edge import artifact as _artifact
from edge.context import parse_time
from edge.decide import HOLDOUT_EXPERIENCE, decide, decide_signals, parse_forced
from edge.model import Ruleset
from edge.reads import reads, valid_window

__all__ = [
    "IN_PYODIDE",
    "current",
    "decide_json",
    "load_artifact",
    "load_artifact_file",
    "reset",
]

IN_PYODIDE = "_pyodide_core" in sys.modules

if IN_PYODIDE:  # pragma: no cover - exercised by the Pyodide pass, not CPython
    from pyodide.ffi import JsProxy
else:
    JsProxy = None

_state: dict[str, Any] = {"ruleset": None, "version": None}


def _to_bytes(data: Any) -> bytes:
    """bytes from what the worker hands over (a Uint8Array proxy, or bytes in tests)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if JsProxy is not None and isinstance(data, JsProxy):  # pragma: no cover - Pyodide only
        return bytes(data.to_bytes())
    raise TypeError(f"load_artifact needs the artifact as bytes, not {type(data).__name__}")


def _slots(ruleset: Ruleset) -> dict[str, dict[str, Any]]:
    return {k: s.to_dict() for k, s in ruleset.slots.items()}


def load_artifact(data: Any, sha256: str) -> str:
    """Check `data` against `sha256`, load it, keep it for `decide_json`; JSON status."""
    try:
        raw = _to_bytes(data)
        if not isinstance(sha256, str) or len(sha256) != 64:
            raise ValueError(f"sha256 must be 64 hex characters, got {sha256!r}")
        ruleset = _artifact.load(raw, sha256=sha256)
    except (TypeError, ValueError) as exc:  # ArtifactError is a ValueError
        return json.dumps({"ok": False, "error": str(exc)})
    # One throwaway decision compiles the ruleset's conditions now, while the page still
    # shows its defaults, instead of inside the first decision the visitor waits for.
    decide(ruleset, {}, {}, datetime.now(UTC))
    _state["ruleset"] = ruleset
    _state["version"] = sha256.lower()
    return json.dumps(
        {
            "ok": True,
            "version": _state["version"],
            "site": ruleset.site,
            "slots": _slots(ruleset),
            # The declared goals, once per artifact: perso.track(name) sends these as
            # conversions (experiences' goals, guardrails, the objective's goal).
            "goals": list(ruleset.goal_names()),
            # What the device's decision cache keys on (issue 8), once per artifact.
            "reads": reads(ruleset).to_dict(),
        }
    )


def load_artifact_file(path: str, sha256: str) -> str:
    """`load_artifact` on a file of Pyodide's virtual disk.

    The worker writes the bytes there with `FS.writeFile` (plain JavaScript) instead of
    handing Python a Uint8Array proxy: after a memory-snapshot restore, calling a JsProxy
    method from Python fails ("table index is out of bounds"), while files always work.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return json.dumps({"ok": False, "error": f"cannot read the artifact at {path}: {exc}"})
    return load_artifact(data, sha256)


def _loads_object(text: Any, what: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be JSON text, not {type(text).__name__}")
    value = json.loads(text) if text else {}
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _now(now_iso: Any) -> datetime:
    moment = parse_time(now_iso)
    if moment is None:
        raise ValueError(f"now must be an ISO-8601 timestamp, got {now_iso!r}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def decide_json(signals_json: str, profile_json: str, now_iso: str) -> str:
    """Decide every slot for these signals and profile; JSON of the result.

    Bad input never raises into JavaScript: the answer is `{"ok": false, "error"}` and the
    page keeps its defaults.
    """
    ruleset = _state["ruleset"]
    if not isinstance(ruleset, Ruleset):
        return json.dumps({"ok": False, "error": "no ruleset is loaded; call load_artifact first"})
    try:
        signals = _loads_object(signals_json, "signals")
        profile = _loads_object(profile_json, "profile")
        now = _now(now_iso)
    except (TypeError, ValueError) as exc:
        return json.dumps({"ok": False, "error": str(exc)})
    # `?perso_force=exp:variant,...` as the page read it (a QA override, never counted).
    raw_forced = signals.pop("forced", None)
    forced = parse_forced(raw_forced) if raw_forced else None
    if forced:
        context, decided = decide_signals(ruleset, signals, profile, now, forced=forced)
    else:
        context, decided = decide_signals(ruleset, signals, profile, now)
    result = decided.to_dict()
    # The device type the context read, for the exposures' breakdown (with `journey`).
    device = context.get("device")
    result["device"] = device.get("type") if isinstance(device, dict) else None
    # A view the holdout counts: its decisions say so, for the device cache's replay
    # (snippet/src/exposures.js), which keeps decisions, not exposures.
    held = any(e["experience"] == HOLDOUT_EXPERIENCE for e in result["exposures"])
    # Experiences outside the holdout's scope (`consent: none` under scope consent) are
    # not "personalization" for the holdout comparison: their exposures say so, and the
    # aggregator does not count them on the personalized side.
    outside = _outside_scope(ruleset)
    for exposure in result["exposures"]:
        if exposure["experience"] in outside:
            exposure["scope"] = False
    for decision in result["decisions"]:
        if held:
            decision["holdout"] = True
        if decision["experience"] in outside:
            decision["scope"] = False
        slot = ruleset.slots.get(decision["slot"])
        decision["selector"] = slot.selector if slot is not None else ""
        decision["hide_until_decided"] = bool(slot and slot.hide_until_decided)
        decision.pop("trace", None)
    result.pop("trace", None)
    result["valid"] = valid_window(
        reads(ruleset), decided.valid, signals=signals, context=context, now=now
    )
    result["ok"] = True
    result["version"] = _state["version"]
    return json.dumps(result, default=str)


def _outside_scope(ruleset: Ruleset) -> frozenset[str]:
    if ruleset.holdout_scope == "all":
        return frozenset()
    return frozenset(e.id for e in ruleset.experiences if e.consent == "none")


def current() -> Ruleset | None:
    """The ruleset in use, or None (for tests and `perso simulate`)."""
    ruleset = _state["ruleset"]
    return ruleset if isinstance(ruleset, Ruleset) else None


def reset() -> None:
    """Forget the loaded ruleset (tests; a worker never needs it)."""
    _state["ruleset"] = None
    _state["version"] = None
