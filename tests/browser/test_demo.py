"""The demo shop loads through the dev server and shows its default content."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from infra.local.devserver import DevServer
from tests.browser._support import RecordingApi


def test_home_page_shows_default_content(
    context: BrowserContext, dev_server: DevServer, api: RecordingApi
) -> None:
    # Given a visitor who has never been here
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # When the home page loads
    response = page.goto(dev_server.url + "/")

    # Then the page and its default slot content are visible, without script errors
    assert response is not None and response.status == 200
    expect(page.locator("#hero h1")).to_have_text("Welcome to Perso Shop")
    expect(page.locator("#cta")).to_be_visible()
    expect(page.locator("[data-perso-slot=banner]")).to_have_text("Free returns on every order")
    expect(page.locator("[data-perso-slot=promo]")).to_have_text("New arrivals every week")
    expect(page.locator("#consent")).to_be_visible()
    assert errors == []


def test_product_page_renders_the_requested_item(
    context: BrowserContext, dev_server: DevServer
) -> None:
    page = context.new_page()
    page.goto(dev_server.url + "/product.html?id=cap-01")
    expect(page.locator("#product h1")).to_have_text("Canvas Cap")
    expect(page.locator("#product .price")).to_have_text("R$ 59.90")
