"""Devices, locales, time zones and clocks get the content examples/demo-shop.yaml
promises them, decided in real Chromium by the real runtime and worker.

Each case is one fresh browser context (cold HTTP cache, empty storage): the expected
text is the ruleset's, the other cases show the page's own default.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from infra.local.devserver import DevServer
from tests.browser._support import (
    DESKTOP,
    IPHONE,
    PIXEL,
    RecordingApi,
    seed_returning_visitor,
    wait_for_decision,
)

HERO_DEFAULT = "Welcome to Perso Shop"
HERO_PT = "Bem-vindo à Perso Shop"
BANNER_DEFAULT = "Free returns on every order"
EVENING_VARIANTS = {
    "Boa noite, cliente! Frete grátis até as 23h",
    "Frete grátis para pedidos feitos hoje à noite",
}
BLACK_FRIDAY = "Black Friday: 30% off everything until Sunday"
# 20:30 in São Paulo (UTC-3), 08:30 the next morning in Tokyo: the same instant.
EVENING_SAO_PAULO = "2026-11-20T23:30:00Z"


@pytest.mark.parametrize(
    ("device", "locale", "hero"),
    [
        pytest.param(IPHONE, "pt-BR", HERO_PT, id="iphone-pt-BR"),
        pytest.param(PIXEL, "pt-BR", HERO_PT, id="android-pt-BR"),
        pytest.param(DESKTOP, "pt-PT", HERO_PT, id="desktop-pt-PT"),
        pytest.param(DESKTOP, "en-US", HERO_DEFAULT, id="desktop-en-US"),
    ],
)
def test_language_picks_the_hero_without_consent(
    new_context: Any,
    dev_server: DevServer,
    api: RecordingApi,
    device: dict[str, Any],
    locale: str,
    hero: str,
) -> None:
    # Given a first-time visitor who has not consented, with this device and language
    context = new_context(**device, locale=locale)
    page = context.new_page()

    # When the home page is decided
    page.goto(dev_server.url + "/")
    record = wait_for_decision(page)

    # Then the hero is the Portuguese one for Portuguese speakers, the default otherwise
    assert record["errors"] == []
    expect(page.locator("#hero h1")).to_have_text(hero)


@pytest.mark.parametrize(
    ("locale", "note"),
    [
        pytest.param("pt-BR", "Frete grátis acima de R$ 150.", id="pt-BR"),
        pytest.param("pt-PT", "", id="pt-PT"),
        pytest.param("en-US", "", id="en-US"),
    ],
)
def test_locale_hands_checkout_data_to_the_page(
    new_context: Any, dev_server: DevServer, api: RecordingApi, locale: str, note: str
) -> None:
    # Given a visitor on the cart page with this locale (Brazil only gets the threshold)
    page = new_context(**DESKTOP, locale=locale).new_page()

    # When the cart page is decided
    page.goto(dev_server.url + "/cart.html?items=tee-01")
    wait_for_decision(page)

    # Then the page's own perso.on("decision") callback showed the data, or nothing
    expect(page.locator("[data-perso-slot=checkout]")).to_have_text(note)


@pytest.mark.parametrize(
    ("device", "timezone", "evening"),
    [
        pytest.param(IPHONE, "America/Sao_Paulo", True, id="iphone-sao-paulo-evening"),
        pytest.param(PIXEL, "America/Sao_Paulo", True, id="android-sao-paulo-evening"),
        pytest.param(DESKTOP, "America/Sao_Paulo", False, id="desktop-sao-paulo-evening"),
        pytest.param(IPHONE, "Asia/Tokyo", False, id="iphone-tokyo-morning"),
    ],
)
def test_evening_banner_needs_phone_portuguese_and_local_evening(
    new_context: Any,
    dev_server: DevServer,
    api: RecordingApi,
    device: dict[str, Any],
    timezone: str,
    evening: bool,
) -> None:
    # Given a returning, consenting Portuguese speaker at one fixed instant
    context = new_context(**device, locale="pt-BR", timezone_id=timezone)
    seed_returning_visitor(context)
    page = context.new_page()
    page.clock.set_fixed_time(EVENING_SAO_PAULO)

    # When the home page is decided
    page.goto(dev_server.url + "/")
    record = wait_for_decision(page)

    # Then only a phone where it is evening locally gets the free-shipping banner
    assert record["errors"] == []
    banner = page.locator("[data-perso-slot=banner]")
    expect(banner).to_be_visible()
    if evening:
        assert banner.inner_text() in EVENING_VARIANTS
    else:
        expect(banner).to_have_text(BANNER_DEFAULT)


@pytest.mark.parametrize(
    ("moment", "banner"),
    [
        pytest.param("2026-11-28T15:00:00Z", BLACK_FRIDAY, id="during-black-friday"),
        pytest.param("2026-11-26T23:00:00Z", BANNER_DEFAULT, id="an-hour-before"),
        pytest.param("2026-11-30T03:00:00Z", BANNER_DEFAULT, id="at-the-end"),
    ],
)
def test_black_friday_banner_follows_the_clock(
    new_context: Any, dev_server: DevServer, api: RecordingApi, moment: str, banner: str
) -> None:
    # Given anyone, without consent, whose device clock says `moment`
    page = new_context(**DESKTOP, locale="en-US", timezone_id="America/New_York").new_page()
    page.clock.set_fixed_time(moment)

    # When the home page is decided
    page.goto(dev_server.url + "/")
    wait_for_decision(page)

    # Then the banner is Black Friday's only inside its São Paulo window
    expect(page.locator("[data-perso-slot=banner]")).to_have_text(banner)
