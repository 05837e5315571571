"""Acquisition channel from utm parameters first, then the referrer host.

>>> classify_channel({"utm_medium": "cpc"}, "https://www.google.com/", "shop.example")
'paid'
>>> classify_channel({}, "https://www.google.com.br/search?q=x", "shop.example")
'search'
"""

from __future__ import annotations

__all__ = ["CHANNELS", "classify_channel", "referrer_host"]

CHANNELS = ("direct", "search", "social", "email", "paid", "referral")

_PAID_MEDIA = frozenset(
    {
        "cpc",
        "ppc",
        "paid",
        "paidsearch",
        "paid_search",
        "paid-search",
        "cpm",
        "cpv",
        "cpa",
        "display",
        "banner",
        "paid_social",
        "paid-social",
        "paidsocial",
        "retargeting",
        "ads",
    }
)
_EMAIL_MEDIA = frozenset({"email", "e-mail", "e_mail", "newsletter", "mail"})
_SOCIAL_MEDIA = frozenset({"social", "social-media", "social_media", "sm", "social-network"})
_SEARCH_MEDIA = frozenset({"organic", "search", "seo"})
_REFERRAL_MEDIA = frozenset({"referral", "affiliate", "partner"})
# Click ids that ad platforms append: a visit carrying one came from a paid click.
_CLICK_IDS = ("gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "dclid", "li_fat_id")

# Host labels (the registrable name without its public suffix, roughly): matching on the
# label handles country domains (google.com.br, yahoo.co.jp) without a suffix list.
_SEARCH_LABELS = frozenset(
    {
        "google",
        "bing",
        "duckduckgo",
        "yahoo",
        "baidu",
        "yandex",
        "ecosia",
        "naver",
        "seznam",
        "qwant",
        "startpage",
        "ask",
        "aol",
    }
)
_SOCIAL_LABELS = frozenset(
    {
        "facebook",
        "instagram",
        "twitter",
        "x",
        "t",
        "linkedin",
        "lnkd",
        "pinterest",
        "reddit",
        "tiktok",
        "youtube",
        "whatsapp",
        "wa",
        "telegram",
        "snapchat",
        "threads",
        "tumblr",
        "vk",
        "quora",
        "mastodon",
        "bsky",
    }
)
# Webmail front ends live on subdomains of search or social names, so they are matched
# on the whole host first.
_WEBMAIL_HOSTS = (
    "mail.google.",
    "outlook.live.com",
    "outlook.office",
    "mail.yahoo.",
    "mail.aol.",
    "mail.proton.me",
    "webmail.",
    "mail.yandex.",
    "mail.zoho.",
    "icloud.com",
)
_SOCIAL_SOURCES = _SOCIAL_LABELS | {"fb", "ig", "tw", "li"}


def referrer_host(referrer: str) -> str:
    """The lowercased host of a URL, without port, "" when there is none."""
    rest = referrer.split("://", 1)[1] if "://" in referrer else ""
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.lower().strip(".")


def _host_label(host: str) -> str:
    parts = [p for p in host.split(".") if p and p != "www"]
    if not parts:
        return ""
    # google.com -> google; google.com.br -> google; t.co -> t; news.yahoo.co.jp -> yahoo
    if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-2] in ("com", "co", "org", "net", "gov"):
        return parts[-3]
    return parts[-2] if len(parts) >= 2 else parts[0]


def _from_host(host: str) -> str | None:
    if any(marker in host for marker in _WEBMAIL_HOSTS):
        return "email"
    label = _host_label(host)
    if label in _SEARCH_LABELS or host.startswith("search."):
        return "search"
    if label in _SOCIAL_LABELS:
        return "social"
    return None


def _from_utm(query: dict[str, str]) -> str | None:
    medium = query.get("utm_medium", "").strip().lower()
    source = query.get("utm_source", "").strip().lower()
    if medium in _PAID_MEDIA or any(query.get(k) for k in _CLICK_IDS):
        return "paid"
    if medium in _EMAIL_MEDIA:
        return "email"
    if medium in _SOCIAL_MEDIA:
        return "social"
    if medium in _SEARCH_MEDIA:
        return "search"
    if medium in _REFERRAL_MEDIA:
        return "referral"
    if source:
        if source in _EMAIL_MEDIA:
            return "email"
        if source in _SOCIAL_SOURCES:
            return "social"
        if source in _SEARCH_LABELS:
            return "search"
        return "referral"
    return None


def classify_channel(query: dict[str, str], referrer: str, page_host: str) -> str:
    """One of CHANNELS: utm parameters and click ids win, then the referrer, else direct."""
    by_utm = _from_utm(query)
    if by_utm:
        return by_utm
    host = referrer_host(referrer)
    if not host or host == page_host.lower():
        # No referrer, or a navigation inside the site itself.
        return "direct"
    return _from_host(host) or "referral"
