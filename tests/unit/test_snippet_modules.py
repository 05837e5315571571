"""The runtime's small modules for frameworks, run in Node: the per-slot decision store
behind perso.get() (unchanged decisions keep their object), the per-view exposure
rules behind perso.shown() (once per experience per view; apply: "none" waits for
shown), and on/off (a callback removed is not called again, one that throws does not
stop the others)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "snippet" / "src"


def _node(body: str) -> Any:
    script = (
        f"const D = await import({json.dumps(str(SRC / 'decisions.js'))});\n"
        f"const X = await import({json.dumps(str(SRC / 'exposures.js'))});\n"
        f"const E = await import({json.dumps(str(SRC / 'emitter.js'))});\n"
        f"const out = await (async () => {{ {body} }})();\n"
        "console.log(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_unchanged_decisions_keep_their_object() -> None:
    out = _node("""
      const store = D.makeDecisions();
      const a = {slot: "a", selector: "#a", experience: "e", variant: "v",
                 content: {text: "x"}, reason: "matched"};
      const b = {slot: "b", selector: "#b", experience: null, variant: null,
                 content: null, reason: "audience"};
      const [a1, b1] = store.set([a, b]);
      const [a2, b2] = store.set([{...a, content: {text: "x"}}, {...b, reason: "holdout"}]);
      return {sameA: a1 === a2 && store.get("a") === a2, sameB: b1 === b2,
              reasonB: store.get("b").reason,
              frozen: Object.isFrozen(a1), unknown: store.get("zzz")};
    """)
    assert out == {
        "sameA": True,
        "sameB": False,
        "reasonB": "holdout",
        "frozen": True,
        "unknown": None,
    }


def test_slot_decision_carries_its_reason() -> None:
    out = _node("""
      return [D.slotDecision({slot: "s", reason: "holdout"}, "#s"),
              D.slotDecision({slot: "s", experience: "e", variant: "v"})];
    """)
    assert out[0] == {
        "slot": "s",
        "selector": "#s",
        "experience": None,
        "variant": None,
        "content": None,
        "reason": "holdout",
    }
    assert out[1]["reason"] is None


def test_exposures_wait_for_shown_and_count_once_per_view() -> None:
    out = _node("""
      const got = [];
      const view = X.makeViewExposures((e) => got.push(e.experience));
      const e1 = {experience: "e1", variant: "v", slot: "a"};
      view.offer([e1, {experience: "e2", variant: "w", slot: "b"}], false);
      const before = got.slice();
      view.shown("a"); view.shown("a"); view.shown("zzz");
      view.offer([e1, {experience: "e3", variant: "u", slot: "b"}], false);
      view.shown("a"); view.shown("b");
      const next = X.makeViewExposures((e) => got.push("next:" + e.experience));
      next.offer([{experience: "e1", variant: "v", slot: "a"}], true);
      return {before, got};
    """)
    assert out == {"before": [], "got": ["e1", "e3", "next:e1"]}


def test_holdout_marker_goes_with_the_first_slot_shown() -> None:
    out = _node("""
      const got = [];
      const view = X.makeViewExposures((e) => got.push(e));
      const held = (slot) => ({slot, experience: null, reason: "holdout"});
      const cached = X.exposuresOf([held("a"), held("b")]);
      view.offer(cached, false);
      view.shown("a"); view.shown("b");
      const filled = X.exposuresOf([
        {slot: "a", experience: "e", variant: "control", content: null, reason: "matched"},
        {slot: "b", experience: null, variant: null, reason: "audience"},
      ]);
      return {got, filled};
    """)
    assert out["got"] == [{"experience": "__holdout__", "variant": "holdout", "slot": None}]
    assert out["filled"] == [{"experience": "e", "variant": "control", "slot": "a"}]


def test_off_removes_a_callback_and_a_throwing_one_does_not_stop_the_others() -> None:
    out = _node("""
      const errors = [], calls = [];
      const ev = E.makeEmitter(["decision"], (e) => errors.push(e.message));
      const boom = () => { throw new Error("boom"); };
      const keep = (x) => calls.push("keep:" + x);
      const once = (x) => { calls.push("once:" + x); ev.off("decision", once); };
      ev.on("decision", boom); ev.on("decision", once); ev.on("decision", keep);
      ev.emit("decision", 1); ev.emit("decision", 2);
      ev.off("decision", keep); ev.emit("decision", 3);
      return {errors, calls};
    """)
    assert out == {"errors": ["boom", "boom", "boom"], "calls": ["once:1", "keep:1", "keep:2"]}
