"""The debugger's explanation (snippet/src/worker.js EXPLAIN_PY), run under CPython on
the demo ruleset: it must tell the same story as the decision the page applied
(`edge.bridge.decide_json`, same inputs) and say which condition failed.

edge.bridge has no explain entry point, so the worker carries this small glue; if the
core's public names it uses (`bridge.current`, `context.build_context`,
`context.parse_time`, `decide.decide(explain=True)`) change, this test says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge import bridge
from edge.artifact import encode
from edge.compiler import compile_file

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T23:30:00Z"  # evening in São Paulo, before Black Friday


def _explainer() -> Any:
    source = (ROOT / "snippet" / "src" / "worker.js").read_text()
    found = re.search(r"const EXPLAIN_PY = `\n(.*?)`;", source, re.S)
    assert found, "worker.js has no EXPLAIN_PY"
    scope: dict[str, Any] = {}
    exec(compile(found.group(1), "worker.js:EXPLAIN_PY", "exec"), scope)
    return scope["_perso_explain"]


@pytest.fixture
def loaded() -> Iterator[None]:
    ruleset = compile_file(ROOT / "examples" / "demo-shop.yaml").ruleset
    assert ruleset is not None
    artifact = encode(ruleset)
    assert json.loads(bridge.load_artifact(artifact.data, artifact.sha256))["ok"]
    try:
        yield
    finally:
        bridge.reset()


def _signals(name: str, **extra: Any) -> dict[str, Any]:
    signals: dict[str, Any] = json.loads((ROOT / "examples" / name).read_text())
    signals.update(extra)
    return signals


@pytest.mark.parametrize(
    ("name", "consent"),
    [
        ("signals-mobile-pt.json", {"analytics": True, "personalization": True}),
        ("signals-desktop-en.json", {"analytics": True, "personalization": True}),
        ("signals-desktop-en.json", {"analytics": False, "personalization": False}),
    ],
)
def test_explanation_matches_the_decision(
    loaded: None, name: str, consent: dict[str, bool]
) -> None:
    signals = _signals(name, consent=consent, visitor_id="11111111-2222-4333-8444-555555555555")
    profile = {"visitor_id": signals["visitor_id"], "visits": 3, "pageviews": 9}
    args = (json.dumps(signals), json.dumps(profile), NOW)
    decided = json.loads(bridge.decide_json(*args))
    explained = json.loads(_explainer()(*args))
    assert decided["ok"] and explained["ok"], explained
    pick = ("slot", "experience", "variant", "reason")
    assert [{k: d[k] for k in pick} for d in explained["decisions"]] == [
        {k: d[k] for k in pick} for d in decided["decisions"]
    ]


def test_explanation_names_the_failed_condition(loaded: None) -> None:
    # Given an English desktop visitor: the Portuguese hero's audience fails on language
    signals = _signals(
        "signals-desktop-en.json", consent={"analytics": False, "personalization": False}
    )
    explained = json.loads(_explainer()(json.dumps(signals), "{}", NOW))
    hero = next(d for d in explained["decisions"] if d["slot"] == "hero")
    assert hero["experience"] is None and hero["reason"] == "audience"
    assert any(
        re.search(r"hero-pt: audience failed at language", line) for line in hero["trace"]
    ), hero


def test_holdout_is_explained_for_the_page(loaded: None) -> None:
    from edge import bucketing

    visitor = next(
        f"00000000-0000-4000-8000-{n:012d}"
        for n in range(10_000)
        if (bucketing.hash("demo-shop/holdout", f"00000000-0000-4000-8000-{n:012d}", 2) or 1) < 0.05
    )
    signals = _signals(
        "signals-mobile-pt.json",
        consent={"analytics": True, "personalization": True},
        visitor_id=visitor,
    )
    explained = json.loads(
        _explainer()(json.dumps(signals), json.dumps({"visitor_id": visitor}), NOW)
    )
    # scope consent (the default): what needs no consent stays, the rest is withheld
    assert "holdout" in {d["reason"] for d in explained["decisions"]}
    assert any("holdout" in line for line in explained["trace"])


def test_without_a_ruleset_it_answers_an_error() -> None:
    bridge.reset()
    assert json.loads(_explainer()("{}", "{}", NOW)) == {
        "ok": False,
        "error": "no ruleset is loaded",
    }
