"""The device's decision cache (snippet/src/cache.js, key v2 in src/instant.js), run in
Node: the key holds what the ruleset reads and nothing else, an entry holds in its
time window only, a new window replaces the one it overlaps, a new version starts
afresh, and pruning drops expired windows, then the contexts written longest ago."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "snippet" / "src"

# A store as src/store.js makes it, in memory.
PRELUDE = """
const mem = new Map();
const store = {
  get: (k) => (mem.has(k) ? JSON.parse(mem.get(k)) : null),
  set: (k, v) => { mem.set(k, JSON.stringify(v)); return true; },
};
const signals = {
  user_agent: "UA", ua_ch: null, max_touch_points: 0, languages: ["pt-BR"], timezone: "UTC",
  local_time: "2026-11-20T14:05:00", url: "https://shop.example/p?id=1&utm=x", referrer: "",
};
const parts = {
  consent: {analytics: true, personalization: true}, segments: [], custom: {plan: "gold"},
  profile: {visits: 2, pageviews: 9, last_seen: "2026-11-20T14:00:00Z"},
  now: Date.parse("2026-11-20T14:05:00Z"),
};
const at = (url) => ({...signals, url: "https://shop.example" + url});
const withProfile = (p) => ({...parts, profile: {...parts.profile, ...p}});
const key = (reads, s = signals, p = parts) =>
  I.contextKey(s, p.consent, p.segments, p.profile, p.custom, p.now, C.keyPaths(reads));
"""


def _node(body: str) -> Any:
    script = (
        f"const C = await import({json.dumps(str(SRC / 'cache.js'))});\n"
        f"const I = await import({json.dumps(str(SRC / 'instant.js'))});\n"
        f"{PRELUDE}\n"
        f"const out = await (async () => {{ {body} }})();\n"
        "console.log(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_key_holds_what_the_ruleset_reads_and_nothing_else() -> None:
    out = _node("""
      const reads = {parts: ["consent", "path"], profile: ["visits"], custom: [], query: []};
      const base = key(reads);
      const query = {...reads, query: ["id"]};
      const all = {...reads, custom: ["*"]};
      const plan = {...reads, custom: ["plan"]};
      const denied = {analytics: false, personalization: true};
      return {
        otherDevice: key(reads, {...signals, user_agent: "Other"}) === base,
        otherQuery: key(reads, at("/p?id=2")) === base,
        otherPath: key(reads, at("/q?id=1&utm=x")) === base,
        otherPageviews: key(reads, signals, withProfile({pageviews: 10})) === base,
        otherVisits: key(reads, signals, withProfile({visits: 3})) === base,
        newSession: key(reads, signals, {...parts, now: parts.now + 31 * 60000}) === base,
        otherConsent: key(reads, signals, {...parts, consent: denied}) === base,
        queryRead: key(query, at("/p?id=2")) === key(query),
        customAll: key(all, signals, {...parts, custom: {plan: "free"}}) === key(all),
        customOther: key(plan, signals, {...parts, custom: {plan: "gold", x: 1}}) === key(plan),
      };
    """)
    assert out == {
        "otherDevice": True,  # device not read
        "otherQuery": True,  # no query name read
        "otherPath": False,
        "otherPageviews": True,  # pageviews not read
        "otherVisits": False,
        "newSession": False,  # visits read: a new session is another context
        "otherConsent": False,  # consent always
        "queryRead": False,  # a query name read keys the query
        "customAll": False,
        "customOther": True,  # only `plan` is read
    }


def test_an_entry_holds_in_its_window_and_a_new_version_starts_afresh() -> None:
    out = _node("""
      const cache = C.makeCache(store);
      const t = Date.parse("2026-11-20T14:05:00Z");
      const reads = {parts: ["path"], profile: [], custom: [], query: [], time: "hour"};
      const e = (w, text) => ({w, t, d: [{slot: "hero", content: {text}}], o: [], x: {}});
      cache.put("v1", reads, [{key: "k", entry: e(C.windowOf(null, t), "14h")}], t);
      cache.put("v1", reads, [{key: "k", entry: e(C.windowOf(null, t + 3600000), "15h")}], t);
      const none = {d: [{content: {text: null}}]};
      const text = (ms) => (cache.lookup("k", ms) || none).d[0].content.text;
      const first = [text(t), text(t + 3600000), text(t + 7200000)];
      const hour = t + 3600000 - 60000;
      const holds = [cache.holds("v1", "k", t), cache.holds("v2", "k", t),
                     cache.holds("v1", "k", hour)];
      // A window that overlaps 14h-15h replaces it
      cache.put("v1", reads, [{key: "k", entry: e([t - 60000, t + 600000], "now")}], t);
      const replaced = [text(t), text(t + 3600000), store.get("d").e.k.length];
      cache.put("v2", reads, [{key: "j", entry: e([0, 8.64e15], "v2")}], t);
      const valid = C.windowOf([t - 5, t + 5], t).map((x) => x - t);
      const d = store.get("d");
      return {first, holds, replaced, afresh: Object.keys(d.e), v: d.v,
              open: C.windowOf([null, null], t), valid};
    """)
    assert out["first"] == ["14h", "15h", None]
    # holds: for this version, now and still 10 minutes later (the next window counts)
    assert out["holds"] == [True, False, True]
    assert out["replaced"] == ["now", "15h", 2]
    assert out["afresh"] == ["j"] and out["v"] == "v2"
    assert out["open"] == [0, 8.64e15]
    assert out["valid"] == [-5, 5]


def test_pruning_drops_expired_windows_then_the_oldest_contexts() -> None:
    out = _node("""
      const cache = C.makeCache(store);
      const reads = {parts: [], profile: [], custom: [], query: [], time: null};
      // One context a write, k0 first; k0, k1 and k2 have expired at 1002.
      for (let i = 0; i < C.MAX_CACHED_CONTEXTS + 5; i++)
        cache.put("v", reads, [{key: "k" + i, entry: {w: [0, 1000 + i], d: [], o: []}}], 1002);
      const keys = Object.keys(store.get("d").e);
      const newest = "k" + (C.MAX_CACHED_CONTEXTS + 4);
      return {n: keys.length, expired: ["k0", "k1", "k2"].some((k) => keys.includes(k)),
              oldestKept: keys.includes("k3"), newestKept: keys.includes(newest)};
    """)
    assert out == {"n": 64, "expired": False, "oldestKept": False, "newestKept": True}


def test_bridge_reads_with_a_wildcard_and_without_reads() -> None:
    out = _node("""
      return {
        wild: C.readsOf({parts: ["path"], profile: [], custom: ["*"], query: ["*"]}),
        none: C.readsOf(undefined) === C.FULL_READS,
        paths: C.keyPaths({parts: ["consent", "device", "referrer"], profile: ["session"],
                           custom: ["a"], query: []}),
      };
    """)
    assert out["wild"]["custom"] == "*" and out["wild"]["query"] == "*"
    assert out["none"] is True
    assert out["paths"] == [
        ["c", "analytics"],
        ["c", "personalization"],
        ["s", "user_agent"],
        ["s", "ua_ch"],
        ["s", "max_touch_points"],
        ["s", "referrer"],
        ["p", "session"],
        ["n"],
        ["u", "a"],
    ]
