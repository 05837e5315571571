"""The `html` sanitizer and the DOM apply/revert of snippet/src, in real Chromium.

snippet/src/sanitize.js and dom.js are bundled by esbuild into a test page (the same
code that perso.js ships) and driven with hostile content: nothing may run, no event
handler or javascript: URL may survive, and every change must revert exactly.
The `attrs` allowlist (runtime) and the stub's last check on cached attributes and
elements are tabled here too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from infra.bundle.snapshot import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
ENTRY = """
import { contentAttr, sanitizeToString } from "./sanitize.js";
import { makeDom } from "./dom.js";
import { UNSAFE_TAG, cachedAttrOk } from "./instant.js";
window.sanitize = (html) => sanitizeToString(document, html);
window.dom = makeDom(document);
window.contentAttr = contentAttr;
window.cachedAttrOk = cachedAttrOk;
window.unsafeTag = (el) => UNSAFE_TAG.test(el.tagName);
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


@pytest.mark.parametrize(
    ("name", "value", "runtime", "stub"),
    [
        ("class", "a b", True, True),
        ("href", "/product.html?id=1", True, True),
        ("href", "https://ok.example/", True, True),
        ("data-variant", "accent", True, True),
        ("aria-label", "Close", True, True),
        ("style", "color: red", True, True),
        ("title", None, True, True),  # null removes an attribute
        ("type", "text/javascript", False, True),  # the stub leaves scripts alone instead
        ("nonce", "abc", False, True),
        ("srcdoc", "<p>x</p>", False, True),
        ("onclick", "x()", False, False),
        ("ONLOAD", "x()", False, False),
        ("href", "java\tscript:x()", False, False),
        ("href", " JAVASCRIPT:x()", False, False),
        ("src", "javascript:x()", False, False),
        ("src", "data:text/html,<script>x()</script>", False, True),
        ("formaction", "javascript:x()", False, False),
        ("xlink:href", "javascript:x()", False, False),
        ("poster", "https://ok.example/p.png", False, True),
        ("style", "background: url(javascript:x())", False, False),
        ("srcset", "javascript:x() 1x", False, False),
        ("data-x y", "1", False, True),
    ],
)
def test_attrs_allowlist_and_the_stubs_check(
    page: Page, name: str, value: str | None, runtime: bool, stub: bool
) -> None:
    assert page.evaluate("([n, v]) => contentAttr(n, v)", [name, value]) is runtime
    assert page.evaluate("([n, v]) => cachedAttrOk(n, v)", [name, value]) is stub


@pytest.mark.parametrize(
    ("markup", "unsafe"),
    [
        ("<script></script>", True),
        ("<script type=application/ld+json></script>", True),
        ("<svg><script></script></svg>", True),
        ("<style></style>", True),
        ("<iframe></iframe>", True),
        ("<object></object>", True),
        ("<embed>", True),
        ("<link>", True),
        ("<meta>", True),
        ("<base>", True),
        ("<template></template>", True),
        ("<noscript></noscript>", True),
        ("<div></div>", False),
        ("<a></a>", False),
        ("<svg></svg>", False),
        ("<scripts-list></scripts-list>", False),
    ],
)
def test_content_never_reaches_scripts_and_their_kin(page: Page, markup: str, unsafe: bool) -> None:
    found = page.evaluate(
        """(m) => { const box = document.createElement("div"); box.innerHTML = m;
                    const el = box.querySelector("script") || box.lastElementChild;
                    return unsafeTag(el); }""",
        markup,
    )
    assert found is unsafe


def test_dom_apply_skips_a_script_its_selector_reaches(page: Page) -> None:
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.type = "application/ld+json"; s.id = "ld"; s.textContent = "{}";
                   document.body.appendChild(s); }"""
    )
    page.evaluate(
        """dom.apply([{slot: "ld", selector: "#ld", content: {
            text: "window.pwned = 'ld'", attrs: {type: "text/javascript"}}}])"""
    )
    assert page.evaluate("document.querySelector('#ld').outerHTML") == (
        '<script type="application/ld+json" id="ld">{}</script>'
    )
    assert page.evaluate("window.pwned") is None
