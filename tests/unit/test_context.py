"""edge.context: raw signals to attributes (DESIGN §4). Runs on CPython and in Pyodide."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge.conditions import evaluate
from edge.context import build_context, parse_time
from edge.context._channel import classify_channel, referrer_host
from edge.context._ua import classify_device

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD_OLD = (
    "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1"
)
# iPadOS 13+ requests the desktop site: the UA is a Mac's.
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
WIN_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)
WIN_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
FB_PREVIEW = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)"


@pytest.mark.parametrize(
    ("ua", "touch", "expected"),
    [
        (IPHONE, 5, ("mobile", "ios", "safari")),
        (IPAD_OLD, 5, ("tablet", "ios", "safari")),
        (MAC_SAFARI, 5, ("tablet", "ios", "safari")),
        (MAC_SAFARI, 0, ("desktop", "macos", "safari")),
        (ANDROID_PHONE, 5, ("mobile", "android", "chrome")),
        (ANDROID_TABLET, 10, ("tablet", "android", "chrome")),
        (SAMSUNG_PHONE, 5, ("mobile", "android", "samsung")),
        (WIN_EDGE, 0, ("desktop", "windows", "edge")),
        (WIN_CHROME, 0, ("desktop", "windows", "chrome")),
        (LINUX_FIREFOX, 0, ("desktop", "linux", "firefox")),
        (HEADLESS, 0, ("desktop", "linux", "chrome")),
        (GOOGLEBOT, 0, ("bot", "other", "other")),
        (BINGBOT, 0, ("bot", "other", "other")),
        (FB_PREVIEW, 0, ("bot", "other", "other")),
        (GPTBOT, 0, ("bot", "other", "other")),
        ("", 0, ("desktop", "other", "other")),
    ],
)
def test_device_from_user_agent(ua: str, touch: int, expected: tuple[str, str, str]) -> None:
    got = classify_device(ua, None, touch)
    assert (got["type"], got["os"], got["browser"]) == expected


def test_client_hints_win_over_the_user_agent() -> None:
    # Given a reduced UA (Chrome's frozen "Linux; Android 10; K") and client hints
    reduced = (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    )
    brands = [
        {"brand": "Not-A.Brand", "version": "99"},
        {"brand": "Chromium", "version": "124"},
        {"brand": "Microsoft Edge", "version": "124"},
    ]
    # When the hints say mobile=false (Android tablets do), Then it is a tablet
    tablet = classify_device(reduced, {"mobile": False, "platform": "Android", "brands": brands})
    assert tablet == {"type": "tablet", "os": "android", "browser": "edge"}
    phone = classify_device(reduced, {"mobile": True, "platform": "Android", "brands": []})
    assert phone["type"] == "mobile"
    desktop = classify_device(WIN_CHROME, {"mobile": False, "platform": "Windows"})
    assert desktop == {"type": "desktop", "os": "windows", "browser": "chrome"}


@pytest.mark.parametrize(
    ("url", "referrer", "expected"),
    [
        ("https://shop.example/?utm_medium=cpc&utm_source=google", "https://google.com/", "paid"),
        ("https://shop.example/?gclid=abc", "", "paid"),
        ("https://shop.example/?utm_medium=email&utm_source=crm", "", "email"),
        ("https://shop.example/?utm_source=newsletter", "", "email"),
        ("https://shop.example/?utm_medium=social&utm_source=ig", "", "social"),
        ("https://shop.example/?utm_source=facebook", "", "social"),
        ("https://shop.example/?utm_source=partner-blog", "", "referral"),
        ("https://shop.example/", "https://www.google.com.br/search?q=tenis", "search"),
        ("https://shop.example/", "https://duckduckgo.com/", "search"),
        ("https://shop.example/", "https://www.bing.com/search?q=x", "search"),
        ("https://shop.example/", "https://t.co/abc", "social"),
        ("https://shop.example/", "https://l.facebook.com/l.php?u=x", "social"),
        ("https://shop.example/", "https://www.instagram.com/", "social"),
        ("https://shop.example/", "https://mail.google.com/mail/u/0/", "email"),
        ("https://shop.example/", "https://outlook.live.com/mail/0/", "email"),
        ("https://shop.example/", "https://blog.example.org/post", "referral"),
        ("https://shop.example/cart", "https://shop.example/product", "direct"),
        ("https://shop.example/", "", "direct"),
    ],
)
def test_channel(url: str, referrer: str, expected: str) -> None:
    ctx = build_context({"url": url, "referrer": referrer})
    assert ctx["channel"] == expected


def test_referrer_host_handles_ports_users_and_garbage() -> None:
    assert referrer_host("https://user:pw@Example.COM:8443/x?y#z") == "example.com"
    assert referrer_host("not a url") == ""
    app_referrer = "android-app://com.google.android.gm/"
    assert classify_channel({}, app_referrer, "shop.example") == "referral"


def test_languages_locale_and_local_time() -> None:
    ctx = build_context(
        {
            "languages": ["pt_br", "PT", "en-us", "zh-hant-tw"],
            "timezone": "America/Sao_Paulo",
            "local_time": "2026-11-27T21:05:09.123",
        }
    )
    assert ctx["language"] == "pt"
    assert ctx["locale"] == "pt-BR"
    assert ctx["languages"] == ["pt-BR", "pt", "en-US", "zh-Hant-TW"]
    assert ctx["timezone"] == "America/Sao_Paulo"
    assert ctx["local"] == {"hour": 21, "minute": 5, "weekday": 5, "date": "2026-11-27"}


def test_local_time_falls_back_to_now_in_the_time_zone() -> None:
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    ctx = build_context({"timezone": "UTC"}, now=now)
    assert ctx["local"]["hour"] == 12
    assert build_context({}, now=None)["local"] == {}


def test_page_and_utm() -> None:
    ctx = build_context(
        {"url": "https://shop.example/product.html?id=sku-1&id=sku-2&utm_campaign=bf&utm_source=x"}
    )
    assert ctx["page"]["path"] == "/product.html"
    assert ctx["page"]["query"]["id"] == "sku-1"
    assert ctx["utm"] == {"source": "x", "campaign": "bf"}


def test_profile_needs_personalization_consent() -> None:
    profile = {
        "visits": 3,
        "pageviews": 7,
        "cart_items": 1,
        "purchases": 0,
        "last_seen": "2026-11-20T10:00:00Z",
        "traits": {"first_name": "Ana", "visits": 99},
        "viewed": ["sku-1", 5],
    }
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    signals = {"visitor_id": "v-1", "profile": profile}
    # Given no consent, Then neither the profile nor the id reach the rules
    anonymous = build_context(signals, now=now)
    assert "id" not in anonymous
    assert "profile" not in anonymous
    # Given consent, Then counters, traits and recency are there, counters not shadowed
    granted = build_context(
        {**signals, "consent": {"analytics": True, "personalization": True}}, now=now
    )
    assert granted["id"] == "v-1"
    assert granted["profile"]["visits"] == 3
    assert granted["profile"]["first_name"] == "Ana"
    assert granted["profile"]["days_since_last_visit"] == 5
    assert granted["profile"]["viewed"] == ["sku-1"]
    assert granted["consent"] == {"analytics": True, "personalization": True}


def test_analytics_consent_alone_gives_an_id_but_no_profile() -> None:
    ctx = build_context(
        {"visitor_id": "v-2", "consent": {"analytics": True}, "profile": {"visits": 4}}
    )
    assert ctx["id"] == "v-2"
    assert "profile" not in ctx


def test_without_consent_profile_attributes_are_absent_not_zero() -> None:
    # Given the demo's journey (its last stage, `new`, matches anyone)
    journey = [
        {"stage": "customer", "when": {"profile.purchases": {"$gte": 1}}},
        {"stage": "cart", "when": {"profile.cart_items": {"$gt": 0}}},
        {"stage": "returning", "when": {"profile.visits": {"$gte": 2}}},
        {"stage": "new", "when": {}},
    ]
    stored = {"visits": 5, "pageviews": 9, "cart_items": 2, "purchases": 1}
    no_profile = build_context({"profile": stored, "consent": {"analytics": True}})
    first_visit = build_context({"consent": {"personalization": True}})
    # When a rule asks whether the visitor has a profile at all
    has_profile = {"profile.visits": {"$exists": True}}
    # Then only the consenting newcomer has one (with zero visits), and each counter
    # of the other is absent rather than 0
    assert evaluate(has_profile, first_visit) and first_visit["profile"]["visits"] == 0
    assert not evaluate(has_profile, no_profile)
    for name in ("visits", "pageviews", "cart_items", "purchases", "days_since_last_visit"):
        assert evaluate({f"profile.{name}": {"$exists": False}}, no_profile), name
    # And both start the journey at `new`, as a visitor with zero counts always did
    for ctx in (no_profile, first_visit):
        stage = next(j["stage"] for j in journey if evaluate(j["when"], ctx))
        assert stage == "new"


@pytest.mark.parametrize(
    "signals",
    [
        None,
        [],
        "x",
        42,
        {"user_agent": 5, "languages": {"a": 1}, "url": ["x"], "local_time": "yesterday"},
        {"consent": "yes", "segments": "vip", "custom": [1], "profile": "p", "geo": 3},
        {"max_touch_points": True, "ua_ch": "mobile", "url": "http://[::1"},
        {
            "consent": {"personalization": True},
            "profile": {"visits": "7", "last_seen": 12, "traits": [], "purchases": float("nan")},
        },
    ],
)
def test_odd_signals_never_raise(signals: object) -> None:
    ctx = build_context(signals, now=datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert ctx["device"]["type"] in ("mobile", "tablet", "desktop", "bot")
    assert ctx["channel"] in ("direct", "search", "social", "email", "paid", "referral")
    assert isinstance(ctx.get("profile", {}).get("visits", 0), int)


def test_segments_custom_and_geo_pass_through() -> None:
    ctx = build_context(
        {"segments": ["vip", 3], "custom": {"plan": "gold"}, "geo": {"country": "BR", "ip": "x"}}
    )
    assert ctx["segments"] == ["vip"]
    assert ctx["custom"] == {"plan": "gold"}
    assert ctx["geo"] == {"country": "BR"}


def test_parse_time() -> None:
    assert parse_time("2026-11-25T19:30:00Z") == datetime(2026, 11, 25, 19, 30, tzinfo=UTC)
    assert parse_time("nope") is None
    assert parse_time(None) is None
