"""Device classification from UA Client Hints, the User-Agent string and touch points.

>>> classify_device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1")
{'type': 'mobile', 'os': 'ios', 'browser': 'safari'}
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["BROWSERS", "DEVICE_TYPES", "OPERATING_SYSTEMS", "classify_device"]

DEVICE_TYPES = ("mobile", "tablet", "desktop", "bot")

# Crawlers and link-preview fetchers. "HeadlessChrome" is left out on purpose: it is a
# real browser engine (and what our own browser tests run), not a crawler.
_BOT = re.compile(
    r"bot\b|bot/|crawler|spider|crawling|slurp|facebookexternalhit|facebot|embedly|"
    r"bingpreview|mediapartners-google|adsbot|lighthouse|pagespeed|ia_archiver|"
    r"python-requests|curl/|wget/|headlesschrome.*(?:bot|crawl)",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (?:7|9|10)\b|sm-t\d", re.IGNORECASE)
_MOBILE = re.compile(
    r"mobi|iphone|ipod|windows phone|iemobile|opera mini|blackberry", re.IGNORECASE
)

# (pattern, os) in order: the first match wins. iOS before macOS (iPhone UAs say
# "like Mac OS X"), Android before Linux.
_OS_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"iphone|ipad|ipod", re.IGNORECASE), "ios"),
    (re.compile(r"android", re.IGNORECASE), "android"),
    (re.compile(r"windows phone", re.IGNORECASE), "windows"),
    (re.compile(r"windows", re.IGNORECASE), "windows"),
    (re.compile(r"cros", re.IGNORECASE), "chromeos"),
    (re.compile(r"macintosh|mac os x", re.IGNORECASE), "macos"),
    (re.compile(r"linux|x11", re.IGNORECASE), "linux"),
)
# Order matters: Edge and Opera and Samsung Internet also say "Chrome"; Chrome says "Safari".
_BROWSER_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"edg(?:e|a|ios)?/", re.IGNORECASE), "edge"),
    (re.compile(r"opr/|opera", re.IGNORECASE), "opera"),
    (re.compile(r"samsungbrowser/", re.IGNORECASE), "samsung"),
    (re.compile(r"firefox/|fxios/", re.IGNORECASE), "firefox"),
    (re.compile(r"chrome/|crios/|chromium/", re.IGNORECASE), "chrome"),
    (re.compile(r"safari/", re.IGNORECASE), "safari"),
)
# Every value `classify_device` can give (the compiler refuses conditions on others).
OPERATING_SYSTEMS = (*dict.fromkeys(name for _, name in _OS_RULES), "other")
BROWSERS = (*dict.fromkeys(name for _, name in _BROWSER_RULES), "other")
_CH_PLATFORMS = {
    "android": "android",
    "ios": "ios",
    "windows": "windows",
    "macos": "macos",
    "chrome os": "chromeos",
    "chromeos": "chromeos",
    "linux": "linux",
}
# Client-hint brand names to our browser names; "Chromium" and GREASE brands
# ("Not A;Brand") are skipped so a more specific brand wins.
_CH_BRANDS = {
    "microsoft edge": "edge",
    "opera": "opera",
    "samsung internet": "samsung",
    "google chrome": "chrome",
    "brave": "chrome",
    "firefox": "firefox",
}


def _first(rules: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str:
    for pattern, name in rules:
        if pattern.search(text):
            return name
    return "other"


def _brand_browser(brands: Any) -> str | None:
    if not isinstance(brands, list):
        return None
    names: list[str] = []
    for brand in brands:
        name = brand.get("brand") if isinstance(brand, dict) else brand
        if isinstance(name, str):
            names.append(name.strip().lower())
    for name in names:
        if name in _CH_BRANDS:
            return _CH_BRANDS[name]
    return "chrome" if "chromium" in names else None


def classify_device(
    user_agent: str, ua_ch: dict[str, Any] | None = None, max_touch_points: int = 0
) -> dict[str, str]:
    """`{"type": mobile|tablet|desktop|bot, "os": ..., "browser": ...}` from raw signals."""
    ua = user_agent or ""
    ch = ua_ch if isinstance(ua_ch, dict) else {}
    os_name = _first(_OS_RULES, ua)
    ch_platform = ch.get("platform")
    if isinstance(ch_platform, str) and ch_platform.strip().lower() in _CH_PLATFORMS:
        os_name = _CH_PLATFORMS[ch_platform.strip().lower()]
    browser = _brand_browser(ch.get("brands")) or _first(_BROWSER_RULES, ua)

    if _BOT.search(ua):
        device = "bot"
    elif _TABLET.search(ua):
        device = "tablet"
    elif "macintosh" in ua.lower() and max_touch_points > 1:
        # iPadOS 13+ asks for the desktop site and reports itself as a Mac; only
        # its touch points give it away (Macs report 0).
        device, os_name = "tablet", "ios"
    elif isinstance(ch.get("mobile"), bool):
        # Client hints say mobile=false for Android tablets, which is what we want.
        if ch["mobile"]:
            device = "mobile"
        else:
            device = "tablet" if os_name in ("android", "ios") else "desktop"
    elif "android" in ua.lower():
        # Android phones carry "Mobile" in the UA; Android tablets do not.
        device = "mobile" if "mobile" in ua.lower() else "tablet"
    elif _MOBILE.search(ua):
        device = "mobile"
    else:
        device = "desktop"
    return {"type": device, "os": os_name, "browser": browser}
