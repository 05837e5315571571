"""`POST /v1/decide`'s answer for the loader stub: DOM ops in the device cache's format
(`lambdas.logic._ops`) and the window they hold in (`decide_view`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.artifact import encode, load
from edge.compiler import compile_file
from lambdas.logic._ops import dom_ops, sanitize_html
from lambdas.logic.decide import decide_view
from lambdas.models.decide import DecideRequest, DecideResponse

ROOT = Path(__file__).resolve().parents[2]
SELECTORS = {"hero": "#hero h1", "banner": "[data-perso-slot=banner]"}


def _op(content: dict[str, Any] | None, slot: str = "hero") -> dict[str, Any] | None:
    ops = dom_ops([{"slot": slot, "content": content}], SELECTORS)
    return ops[0] if ops else None


# --- one op per kind ------------------------------------------------------------------


def test_text_is_escaped_as_the_browser_serializes_a_text_node() -> None:
    op = _op({"text": 'Fish & <chips> "now"\xa0!'})
    assert op == {
        "slot": "hero",
        "s": "#hero h1",
        "h": 'Fish &amp; &lt;chips&gt; "now"&nbsp;!',
    }


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<strong>Free returns</strong> for <em>30</em> days", None),
        ("<script>alert(1)</script><p>ok</p>", "<p>ok</p>"),
        ('<img src="x.png" onerror="alert(1)" alt="a">', '<img src="x.png" alt="a">'),
        ('<a href="javascript:alert(1)" title="t">go</a>', '<a title="t">go</a>'),
        ('<a href="/p?a=1&amp;b=2" target="_blank">p</a>',
         '<a href="/p?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">p</a>'),
        ("<blink>unwrapped <b>kept</b></blink>", "unwrapped <b>kept</b>"),
        ("<svg><a>gone</a></svg>after", "after"),
        ("<iframe srcdoc='<script>x</script>'></iframe><br/>", "<br>"),
        ("<title><b>t</b></title>next", "next"),
        ("<!-- c --><p>unclosed <i>too", "<p>unclosed <i>too</i></p>"),
        ("<p>a</div>b</p>", "<p>ab</p>"),
        ('<span data-x="1" style="color:red" class="c" type="t">s</span>',
         '<span data-x="1" class="c" type="t">s</span>'),
        ("a &lt;b&gt; &amp; c", None),
    ],
)  # fmt: skip
def test_html_goes_through_the_runtime_allowlist(markup: str, expected: str | None) -> None:
    assert sanitize_html(markup) == (markup if expected is None else expected)
    assert _op({"html": markup}) == {
        "slot": "hero",
        "s": "#hero h1",
        "h": markup if expected is None else expected,
    }


def test_attrs_follow_content_attr() -> None:
    op = _op(
        {
            "attrs": {
                "href": "/sale",
                "data-variant": "b",
                "aria-label": 3,
                "title": None,
                "hidden": False,  # not an attribute content may set
                "onclick": "alert(1)",
                "type": "submit",
                "src": "javascript:alert(1)",
                "open": False,
                "style": "background:url(javascript:alert(1))",
            }
        }
    )
    assert op is not None
    assert op["a"] == {
        "href": "/sale",
        "data-variant": "b",
        "aria-label": "3",
        "title": None,
        "open": None,
    }


def test_classes_and_hide() -> None:
    assert _op({"class": {"add": ["a", "", "b"], "remove": "c  d"}, "hide": True}) == {
        "slot": "hero",
        "s": "#hero h1",
        "c": {"add": ["a", "b"], "remove": ["c", "d"]},
        "x": 1,
    }


@pytest.mark.parametrize(
    "content",
    [{"redirect": "/?landing=b"}, {"data": {"threshold": 150}}, None, {}],
)
def test_redirects_data_and_defaults_are_never_ops(content: dict[str, Any] | None) -> None:
    assert _op(content) is None


def test_a_slot_without_a_selector_gets_no_op() -> None:
    assert _op({"text": "x"}, slot="nowhere") is None


def test_the_last_child_kind_wins_as_apply_content_applies_them_in_order() -> None:
    op = _op({"text": "t", "recommend": {"items": [{"id": "a", "title": "A"}]}})
    assert op is not None and op["h"].startswith('<ul class="perso-recs">')


def test_recommend_lists_render_as_the_runtime_renders_them() -> None:
    items = [
        {"id": "sneaker-01", "title": "Runner & Co", "url": "/p?id=1&x=2",
         "image": "/img/1.jpg", "price": 299.9},
        {"id": "bag-01", "url": "javascript:alert(1)", "price": 119.0},
        "not an item",
    ]  # fmt: skip
    op = _op({"recommend": {"title": "Popular", "items": items}})
    assert op is not None
    assert op["h"] == (
        '<ul class="perso-recs">'
        '<li class="perso-rec" data-perso-item="sneaker-01"><a href="/p?id=1&amp;x=2">'
        '<img src="/img/1.jpg" alt="Runner &amp; Co" loading="lazy">'
        '<span class="perso-rec-title">Runner &amp; Co</span>'
        '<span class="perso-rec-price">299.9</span></a></li>'
        '<li class="perso-rec" data-perso-item="bag-01"><span>'
        '<span class="perso-rec-title">bag-01</span>'
        '<span class="perso-rec-price">119</span></span></li>'
        "</ul>"
    )


# --- decide_view ------------------------------------------------------------------------

DEMO = compile_file(ROOT / "examples" / "demo-shop.yaml").ruleset
# 22:42:10 UTC, 19:42:10 on a phone in São Paulo (UTC-3): the demo reads the local hour.
NOW = datetime(2026, 11, 25, 22, 42, 10, tzinfo=UTC)
SIGNALS = {
    "local_time": "2026-11-25T19:42:10",
    "timezone": "America/Sao_Paulo",
    "languages": ["pt-BR", "pt"],
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "max_touch_points": 5,
    "url": "https://shop.example/",
}


def _view(body: dict[str, Any]) -> dict[str, Any]:
    assert DEMO is not None
    artifact = encode(DEMO)
    ruleset = load(artifact.data, sha256=artifact.sha256)
    request = DecideRequest.model_validate({"site": "demo-shop", "signals": SIGNALS} | body)
    answer = decide_view(request, ruleset=ruleset, version=artifact.sha256, now=NOW)
    assert isinstance(answer, DecideResponse)
    return answer.model_dump(mode="json")


def test_a_first_view_before_consent_gets_ops_for_what_needs_no_consent() -> None:
    # Given a Portuguese phone before consent: no visitor id at all in the request
    answer = _view({})
    # Then the consent-free experiences come as ready ops (hero-pt, checkout's data none)
    assert answer["ops"] == [
        {"slot": "hero", "s": "#hero h1", "h": "Bem-vindo à Perso Shop"},
    ]
    hero = next(d for d in answer["decisions"] if d["slot"] == "hero")
    assert hero["experience"] == "hero-pt"
    # And they hold until the local hour ends (19:00 to 20:00 in São Paulo)
    hour = datetime(2026, 11, 25, 22, 0, tzinfo=UTC).timestamp() * 1000
    assert answer["valid"] == [int(hour), int(hour + 3_600_000)]


def test_a_consented_view_gets_its_bucketed_and_filled_ops_but_no_data_op() -> None:
    # Given a consented visitor whose hash lands on the evening banner's first variant
    consent = {"analytics": True, "personalization": True}
    answer = _view({"consent": consent, "visitor": "v-ops-1"})
    # Then its placeholder is filled (no profile on the server: the fallback) and applied
    assert answer["ops"] == [
        {
            "slot": "banner",
            "s": "[data-perso-slot=banner]",
            "h": "Boa noite, cliente! Frete grátis até as 23h",
        },
        {"slot": "hero", "s": "#hero h1", "h": "Bem-vindo à Perso Shop"},
    ]
    # And the checkout's data decision is in the decisions, never an op
    checkout = next(d for d in answer["decisions"] if d["slot"] == "checkout")
    assert checkout["content"] == {"data": {"free_shipping_threshold": 150, "currency": "BRL"}}
