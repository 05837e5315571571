"""The attributes `build_context` builds, and the shape of each value (DESIGN §4).

Written beside the code that builds them, so the ruleset compiler (which refuses
conditions that can never match) and the JSON Schema read the same list.

>>> ATTRIBUTES["device.type"].values
('mobile', 'tablet', 'desktop', 'bot')
>>> ATTRIBUTES["local.hour"].low, ATTRIBUTES["local.hour"].high
(0, 23)
>>> attribute("profile.first_name").kind, attribute("custom.plan").kind, attribute("device.typ")
('any', 'any', None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edge.context._build import PROFILE_COUNTERS, UTM_KEYS
from edge.context._channel import CHANNELS
from edge.context._ua import BROWSERS, DEVICE_TYPES, OPERATING_SYSTEMS

__all__ = ["ATTRIBUTES", "OPEN_NAMESPACES", "Attribute", "attribute"]

# text: a string; whole: an integer; flag: true/false; list: a list of strings;
# map: an object of further attributes; any: whatever a site or a profile trait holds.
type Kind = Literal["text", "whole", "flag", "list", "map", "any"]


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute path and the values it can hold.

    `values`: the only texts it takes. `pattern`: a regex every text (or list item)
    matches. `form`: "tag" (a BCP 47 tag cased as the context cases it, see
    `language_tag`) or "zone" (an IANA time zone). `low`/`high`: bounds of a whole number.
    `shape`: what a value looks like, in words, for messages ("a date like ...").
    """

    path: str
    kind: Kind
    about: str
    values: tuple[str, ...] = ()
    pattern: str = ""
    form: Literal["", "tag", "zone"] = ""
    low: int | None = None
    high: int | None = None
    shape: str = ""


_TAG = r"^[a-z]{2,8}(-[A-Za-z0-9]{1,8})*$"

_LIST: tuple[Attribute, ...] = (
    Attribute("device", "map", "The visitor's device."),
    Attribute("device.type", "text", "mobile, tablet, desktop or bot.", values=DEVICE_TYPES),
    Attribute("device.os", "text", "The operating system.", values=OPERATING_SYSTEMS),
    Attribute("device.browser", "text", "The browser.", values=BROWSERS),
    Attribute(
        "language",
        "text",
        "Primary language subtag of the first preferred language, lowercase.",
        pattern=r"^[a-z]{2,8}$",
        shape="a primary language subtag like 'pt' (no region)",
    ),
    Attribute(
        "languages",
        "list",
        "All preferred languages, as BCP 47 tags.",
        pattern=_TAG,
        form="tag",
        shape="BCP 47 tags cased like 'pt-BR'",
    ),
    Attribute(
        "locale",
        "text",
        "The first preferred language as a BCP 47 tag.",
        pattern=_TAG,
        form="tag",
        shape="a BCP 47 tag cased like 'pt-BR'",
    ),
    Attribute(
        "timezone",
        "text",
        "The device's IANA time zone.",
        form="zone",
        shape="an IANA time zone like 'Europe/Berlin'",
    ),
    Attribute("local", "map", "The device's wall clock."),
    Attribute("local.hour", "whole", "Hour of the device's clock.", low=0, high=23),
    Attribute("local.minute", "whole", "Minute of the device's clock.", low=0, high=59),
    Attribute("local.weekday", "whole", "Day of the week, 1 = Monday.", low=1, high=7),
    Attribute(
        "local.date",
        "text",
        "The device's date.",
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        shape="a date like '2026-11-27'",
    ),
    Attribute("geo", "map", "Where the visitor is (from the CDN; absent locally)."),
    Attribute(
        "geo.country",
        "text",
        "ISO 3166 country code, uppercase.",
        pattern=r"^[A-Z]{2}$",
        shape="an uppercase country code like 'BR'",
    ),
    Attribute("geo.region", "text", "Region within the country, from the CDN."),
    # (GEO_KEYS in _build keeps exactly these two.)
    Attribute("channel", "text", "How the visitor arrived.", values=CHANNELS),
    Attribute("utm", "map", "The page's utm_* parameters, without the prefix."),
    *(Attribute(f"utm.{key}", "text", f"The utm_{key} parameter.") for key in UTM_KEYS),
    Attribute("page", "map", "The page."),
    Attribute("page.url", "text", "The page's full URL."),
    Attribute(
        "page.path", "text", "The page's path.", pattern=r"^/", shape="a path like '/product.html'"
    ),
    Attribute("page.query", "map", "The page's query parameters (first value of each)."),
    Attribute("referrer", "text", "The referrer URL, or empty."),
    Attribute("journey", "text", "The first matching stage of the ruleset's journey."),
    Attribute("profile", "map", "The on-device profile (only with personalization consent)."),
    *(
        Attribute(f"profile.{key}", "whole", f"Count of {key.replace('_', ' ')}.", low=0)
        for key in PROFILE_COUNTERS
    ),
    Attribute("profile.days_since_last_visit", "whole", "Days since the last visit.", low=0),
    Attribute("profile.first_seen", "text", "When the profile began (ISO time)."),
    Attribute("profile.last_seen", "text", "The last visit (ISO time)."),
    Attribute("profile.viewed", "list", "Catalog ids viewed."),
    Attribute("segments", "list", "Server-side segments of this visitor."),
    Attribute("consent", "map", "The consent state."),
    Attribute("consent.analytics", "flag", "Analytics consent granted."),
    Attribute("consent.personalization", "flag", "Personalization consent granted."),
    Attribute("id", "text", "The visitor id (only with consent)."),
    Attribute("custom", "map", "What the site set with perso.set({...})."),
)
ATTRIBUTES: dict[str, Attribute] = {a.path: a for a in _LIST}

# Where any name may follow: the site's own attributes, query parameters, and profile
# traits (the profile keeps what the site stores beside the counters above).
OPEN_NAMESPACES = ("custom", "page.query", "profile")


def attribute(path: str) -> Attribute | None:
    """The attribute at `path`; kind "any" inside an open namespace or under an index
    of a list (`languages.0`); None when the context never builds it."""
    if path in ATTRIBUTES:
        return ATTRIBUTES[path]
    for namespace in OPEN_NAMESPACES:
        if path.startswith(namespace + "."):
            return Attribute(path, "any", "")
    head, _, rest = path.rpartition(".")
    while head:
        known = ATTRIBUTES.get(head)
        if known is not None and known.kind == "list" and rest.split(".")[0].isdigit():
            return Attribute(path, "any", "")
        if known is not None:
            return None
        head, _, more = head.rpartition(".")
        rest = f"{more}.{rest}"
    return None
