"""The `html` sanitizer and the DOM apply/revert of snippet/src, in real Chromium.

snippet/src/sanitize.js and dom.js are bundled by esbuild into a test page (the same
code that perso.js ships) and driven with hostile content: nothing may run, no event
handler or javascript: URL may survive, and every change must revert exactly.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from infra._bundle_snapshot import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
ENTRY = """
import { sanitizeToString } from "./sanitize.js";
import { makeDom } from "./dom.js";
window.sanitize = (html) => sanitizeToString(document, html);
window.dom = makeDom(document);
"""


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    bundled = subprocess.run(
        [str(ROOT / "node_modules/.bin/esbuild"), "--bundle", "--format=iife",
         "--log-level=warning", "--sourcefile=entry.js"],
        input=ENTRY, capture_output=True, text=True, check=True, cwd=ROOT / "snippet" / "src",
    ).stdout
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page()
            pg.set_content('<div id="slot" class="a" title="t">default <i>text</i></div>')
            pg.add_script_tag(content=bundled)
            yield pg
        finally:
            browser.close()


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<b onclick=\"x()\">Hi</b>", "<b>Hi</b>"),
        ("<script>window.pwned=1</script>ok", "ok"),
        ("<img src=x onerror=\"window.pwned=2\">", '<img src="x">'),
        ("<a href=\"java\tscript:alert(1)\">j</a>", "<a>j</a>"),
        ("<a href=\" JAVASCRIPT:alert(1)\">j</a>", "<a>j</a>"),
        ("<a href=\"https://ok.example/\" target=\"_blank\">ok</a>",
         '<a href="https://ok.example/" target="_blank" rel="noopener noreferrer">ok</a>'),
        ("<style>body{display:none}</style><iframe src=\"https://e\"></iframe>t", "t"),
        ("<svg><script>1</script></svg><math></math>x", "x"),
        ("<custom-el>kept <em>text</em></custom-el>", "kept <em>text</em>"),
        ("<p style=\"color:red\" data-k=\"v\" aria-label=\"l\">p</p>",
         '<p data-k="v" aria-label="l">p</p>'),
        ("<img srcset=\"javascript:alert(1) 1x\" src=\"/a.png\">", '<img src="/a.png">'),
        ("<form action=\"https://e\"><input name=a></form>f", "f"),
    ],
)
def test_sanitizer_keeps_only_allowlisted_markup(page: Page, html: str, expected: str) -> None:
    assert page.evaluate("(h) => sanitize(h)", html) == expected
    assert page.evaluate("window.pwned") is None


def test_every_change_reverts_exactly(page: Page) -> None:
    before = page.evaluate("document.querySelector('#slot').outerHTML")
    page.evaluate(
        """dom.apply([{slot: "s", selector: "#slot", content: {
            html: "<b>new</b>", class: {add: ["b"], remove: ["a"]},
            attrs: {title: null, "data-x": "1", onclick: "alert(1)"}, hide: true}}])"""
    )
    changed = page.evaluate("document.querySelector('#slot').outerHTML")
    assert changed == (
        '<div id="slot" class="b" data-x="1" style="display: none !important;"><b>new</b></div>'
    )
    page.evaluate("dom.revertAll()")
    assert page.evaluate("document.querySelector('#slot').outerHTML") == before
