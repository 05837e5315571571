"""The ops `POST /v1/decide` builds in Python are the ones the runtime caches.

`lambdas.logic._ops.dom_ops` ports `cachedOps` (snippet/src/dom.js) and the sanitizer
behind it, so that the loader stub can apply a server's answer as it applies its own
cache. Here both run on the same decisions, the runtime's in Chromium: the same ops,
and the same elements once the stub's `applyOp` has set each `h`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdas.logic._ops import dom_ops

SRC = Path(__file__).resolve().parents[2] / "snippet" / "src"
ORIGIN = "http://ops.perso.test"

CONTENTS: list[dict[str, Any]] = [
    {"text": "Fish & <chips> \"now\"\xa0!"},
    {"html": "<strong>Free</strong> returns <em>30 days</em> &amp; more"},
    {"html": "<p onclick=\"x()\">Hi <blink>you</blink><script>x()</script>"
             "<img src=x onerror=alert(1) alt='a<b'><a href='javascript:x()'>j</a></p>"},
    {"html": "<a href='/p?a=1&amp;b=2' target=_blank title='t \"q\"'>p</a><svg><a>x</a></svg>"
             "<table><tr><td>cell</td></tr></table><ul><li>one<li>two</ul>"},
    {"html": "<div data-x='1' aria-label='l' style='color:red' type=t>d<br/>e</div>"},
    {"text": "Go", "attrs": {"href": "/p?id=jacket-01", "data-variant": "accent",
                              "onclick": "x()", "src": "java\tscript:x()", "title": None,
                              "aria-hidden": False, "type": "submit", "width": 3}},
    {"class": {"add": ["btn-accent", ""], "remove": "btn-plain  other"}, "hide": True},
    {"recommend": {"title": "Popular", "items": [
        {"id": "sneaker-01", "title": "Runner & Co", "url": "/p?id=1&x=2",
         "image": "/img/1.jpg", "price": 299.9},
        {"id": "bag-01", "url": "javascript:x()", "price": 119},
        {"id": 7, "title": "", "image": "data:x", "price": 0}]}},
    {"redirect": "/?landing=b"},
    {"data": {"threshold": 150}},
]  # fmt: skip


def _decisions() -> list[dict[str, Any]]:
    return [
        {"slot": f"s{i}", "selector": f"#s{i}", "content": content}
        for i, content in enumerate(CONTENTS)
    ]


def _serve(route: Any) -> None:
    path = route.request.url[len(ORIGIN) :].split("?")[0]
    if path.startswith("/src/") and (SRC / path[5:]).is_file():
        body = (SRC / path[5:]).read_text(encoding="utf-8")
        route.fulfill(status=200, content_type="text/javascript", body=body)
    else:
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")


def test_python_ops_match_the_runtime_cached_ops(new_context: Any) -> None:
    # Given the same decisions for the runtime and for the server
    context = new_context()
    context.route(f"{ORIGIN}/**", _serve)
    page = context.new_page()
    page.goto(ORIGIN + "/")
    decisions = _decisions()
    # When the runtime makes its cache ops, and the stub applies each op's html
    js = page.evaluate(
        """async (decisions) => {
          const { cachedOps } = await import("/src/dom.js");
          return cachedOps(document, decisions);
        }""",
        decisions,
    )
    python = dom_ops(
        [{"slot": d["slot"], "content": d["content"]} for d in decisions],
        {d["slot"]: d["selector"] for d in decisions},
    )
    reparse = """(html) => { const box = document.createElement("div");
                             box.innerHTML = html; return box.innerHTML; }"""
    # Then every op has the same slot, selector, attributes, classes and hiding
    assert [op["slot"] for op in python] == [op["slot"] for op in js]
    assert len(python) == 8  # redirect and data: no op on either side
    for ours, theirs in zip(python, js, strict=True):
        assert {k: v for k, v in ours.items() if k != "h"} == {
            k: v for k, v in theirs.items() if k != "h"
        }, ours["slot"]
        # and the same elements once the stub sets h (serializations may quote apart)
        assert ("h" in ours) == ("h" in theirs), ours["slot"]
        if "h" in ours:
            assert page.evaluate(reparse, ours["h"]) == page.evaluate(reparse, theirs["h"]), ours[
                "slot"
            ]
