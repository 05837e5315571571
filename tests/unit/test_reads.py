"""`edge.reads`: what a ruleset reads (the device cache's key) and the window a
decision stays valid in; `Result.valid`, the window `decide` computes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.compiler import compile_file
from edge.decide import decide, decide_signals
from edge.model import (
    Experience,
    Frequency,
    JourneyStage,
    Policy,
    Ruleset,
    Schedule,
    Slot,
    Variant,
)
from edge.reads import Reads, reads, valid_window

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 22, 42, 10, tzinfo=UTC)


def _one(
    audience: dict[str, Any] | None = None,
    *,
    content: dict[str, Any] | None = None,
    consent: str = "none",
    variants: int = 1,
    coverage: float = 1.0,
    frequency: Frequency | None = None,
    **ruleset: Any,
) -> Ruleset:
    """A ruleset of one slot and one experience (consent none, one variant: no id)."""
    arms = tuple(
        Variant(f"v{i}", 1.0 / variants, content if i == 0 else None) for i in range(variants)
    )
    return Ruleset(
        site="s",
        slots={"hero": Slot("hero", "#hero")},
        experiences=(
            Experience(
                id="e",
                slot="hero",
                consent=consent,
                audience=audience or {},
                variants=arms,
                coverage=coverage,
                frequency=frequency,
            ),
        ),
        **ruleset,
    )


def _reads(ruleset: Ruleset) -> dict[str, Any]:
    return reads(ruleset).to_dict()


# --- what a ruleset reads -----------------------------------------------------------


def test_an_unconditional_consent_free_ruleset_reads_only_consent() -> None:
    assert _reads(_one()) == {
        "parts": ["consent"],
        "profile": [],
        "custom": [],
        "query": [],
        "time": None,
    }


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("device.type", ["consent", "device"]),
        ("device", ["consent", "device"]),
        ("language", ["consent", "languages"]),
        ("languages.0", ["consent", "languages"]),
        ("locale", ["consent", "languages"]),
        ("timezone", ["consent", "timezone"]),
        ("referrer", ["consent", "referrer"]),
        ("segments", ["consent", "segments"]),
        ("geo.country", ["consent", "geo"]),
        ("id", ["consent", "id"]),
        ("consent.analytics", ["consent"]),
        ("page.path", ["consent", "path"]),
        ("visits", ["consent"]),  # the context has no such attribute: always null
        ("journey", ["consent"]),  # no stages: always null
    ],
)
def test_each_attribute_names_its_signal_group(path: str, parts: list[str]) -> None:
    assert _reads(_one({path: {"$exists": True}}))["parts"] == parts


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("page.query.landing", ["landing"]),
        ("page.query", ["*"]),
        ("page.url", ["*"]),
        ("page", ["*"]),
        ("utm.campaign", ["utm_campaign"]),
        ("utm", ["*"]),
    ],
)
def test_the_url_query_is_read_by_name_or_whole(path: str, query: list[str]) -> None:
    found = _reads(_one({path: {"$exists": True}}))
    assert found["query"] == query
    assert found["parts"] == ["consent", "path"]


def test_the_channel_reads_the_whole_query_and_the_referrer() -> None:
    found = _reads(_one({"channel": "email"}))
    assert found["parts"] == ["consent", "path", "referrer"]
    assert found["query"] == ["*"]


@pytest.mark.parametrize(
    ("path", "time"),
    [
        ("local.minute", "minute"),
        ("local.hour", "hour"),
        ("local.weekday", "date"),
        ("local.date", "date"),
        ("local", "minute"),
    ],
)
def test_local_time_reads_the_time_zone_and_its_unit(path: str, time: str) -> None:
    found = _reads(_one({path: {"$exists": True}}))
    assert found["time"] == time
    assert found["parts"] == ["consent", "timezone"]


def test_the_finest_unit_wins() -> None:
    audience = {"$or": [{"local.weekday": 5}, {"$and": [{"local.minute": {"$lt": 30}}]}]}
    assert _reads(_one(audience | {"local.hour": 9}))["time"] == "minute"


@pytest.mark.parametrize(
    ("path", "profile", "time"),
    [
        ("profile.visits", ["visits"], None),
        ("profile.cart_items", ["cart_items"], None),
        ("profile.first_name", ["traits"], None),
        ("profile.viewed", ["viewed"], None),
        ("profile.first_seen", ["first_seen"], None),
        ("profile.last_seen", ["last_seen"], None),
        ("profile.days_since_last_visit", ["last_seen"], "date"),
        (
            "profile",
            [
                "cart_items",
                "first_seen",
                "last_seen",
                "pageviews",
                "purchases",
                "traits",
                "viewed",
                "visits",
            ],
            "date",
        ),
    ],
)
def test_profile_paths_name_the_device_profile_keys(
    path: str, profile: list[str], time: str | None
) -> None:
    found = _reads(_one({path: {"$exists": True}}))
    assert found["profile"] == profile
    assert found["time"] == time


@pytest.mark.parametrize(
    ("audience", "custom"),
    [({"custom.plan": "gold", "custom.tier.level": 2}, ["plan", "tier"]), ({"custom": {}}, ["*"])],
)
def test_custom_names_or_the_whole_map(audience: dict[str, Any], custom: list[str]) -> None:
    assert _reads(_one(audience))["custom"] == custom


def test_logic_operators_are_walked_and_value_operators_are_not_paths() -> None:
    audience = {
        "$and": [
            {"$or": [{"device.type": "mobile"}, {"$nor": [{"language": "pt"}]}]},
            {"$not": {"geo.country": {"$in": ["BR"]}}},
            {"segments": {"$elemMatch": {"$eq": "vip"}}},
            {"languages": {"$not": {"$size": 0}}},
        ]
    }
    assert _reads(_one(audience))["parts"] == [
        "consent",
        "device",
        "geo",
        "languages",
        "segments",
    ]


def test_journey_stages_are_read_whenever_the_ruleset_has_them() -> None:
    # Given stages over the profile and no audience naming the journey
    stages = (
        JourneyStage("cart", {"profile.cart_items": {"$gt": 0}}),
        JourneyStage("paid", {"channel": "paid"}),
        JourneyStage("new", {}),
    )
    found = _reads(_one(journey=stages))
    # Then the key holds them: the stage comes out with every result
    assert found["profile"] == ["cart_items"]
    assert found["parts"] == ["consent", "path", "referrer"]


def test_placeholders_in_any_content_kind_are_reads() -> None:
    content = {
        "text": "Hi {profile.first_name|there} from {geo.country}",
        "attrs": {"data-plan": "{custom.plan|free}"},
        "data": {"deep": ["{page.query.ref}"]},
    }
    found = _reads(_one(content=content))
    assert found["parts"] == ["consent", "geo", "path"]
    assert found["profile"] == ["traits"]
    assert found["custom"] == ["plan"]
    assert found["query"] == ["ref"]


def test_a_multivariate_experience_reads_its_levels_placeholders() -> None:
    experience = Experience.from_dict(
        {
            "id": "mv",
            "slot": "hero",
            "type": "multivariate",
            "factors": [
                {"id": "h", "slot": "hero", "levels": [
                    {"id": "default"}, {"id": "named", "content": {"text": "Hi {custom.name}"}}]},
            ],
            "variants": [{"id": "default", "weight": 0.5}, {"id": "named", "weight": 0.5}],
        }
    )  # fmt: skip
    ruleset = Ruleset(site="s", slots={"hero": Slot("hero", "#h")}, experiences=(experience,))
    assert _reads(ruleset)["custom"] == ["name"]


def test_a_recommend_list_reads_the_viewed_items_and_the_current_one() -> None:
    found = _reads(_one(content={"recommend": {"list": "co_viewed", "count": 4}}))
    assert found["profile"] == ["viewed"]
    assert found["query"] == ["id"]
    assert found["parts"] == ["consent", "path"]


@pytest.mark.parametrize(
    ("options", "has_id"),
    [
        ({}, False),
        ({"consent": "personalization"}, True),  # decide skips it without an id
        ({"variants": 2}, True),  # hashed
        ({"coverage": 0.5}, True),  # hashed
        ({"holdout": 0.05}, True),  # the holdout's hash
    ],
)
def test_the_visitor_id_is_read_when_hashing_or_consent_needs_it(
    options: dict[str, Any], has_id: bool
) -> None:
    assert ("id" in _reads(_one(**options))["parts"]) is has_id


@pytest.mark.parametrize(
    ("frequency", "policy", "profile"),
    [
        (Frequency(3, "day"), Policy(), ["exposures"]),
        (Frequency(1, "session"), Policy(), ["exposures", "session"]),
        (Frequency(1, "view"), Policy(), []),  # an old artifact's "view" is no cap
        (None, Policy(max_exposures_per_session=5), ["session"]),
        (None, Policy(max_experiences_per_page=2), []),
    ],
)
def test_caps_and_the_session_policy_read_the_exposure_records(
    frequency: Frequency | None, policy: Policy, profile: list[str]
) -> None:
    assert _reads(_one(frequency=frequency, policy=policy))["profile"] == profile


def test_experiences_decide_never_runs_are_not_read() -> None:
    ruleset = Ruleset(
        site="s",
        slots={"hero": Slot("hero", "#hero")},
        experiences=(
            Experience(id="x", slot="nowhere", audience={"device.type": "mobile"}, variants=(
                Variant("v", 1.0, {"text": "x"}),)),
            Experience(id="y", slot="hero", audience={"language": "pt"}, variants=()),
        ),
    )  # fmt: skip
    assert _reads(ruleset)["parts"] == ["consent"]


def test_reads_is_computed_once_per_ruleset_object() -> None:
    ruleset = _one({"device.type": "mobile"})
    assert reads(ruleset) is reads(ruleset)
    assert reads(_one({"language": "pt"})).parts == ("consent", "languages")


def test_the_demo_ruleset_reads() -> None:
    compiled = compile_file(ROOT / "examples" / "demo-shop.yaml")
    assert compiled.ruleset is not None
    assert _reads(compiled.ruleset) == {
        # device.type, language/locale, local.hour (evening), page.path, channel and
        # utm.campaign (from_campaign), the holdout and the splits (id)
        "parts": ["consent", "device", "id", "languages", "path", "referrer", "timezone"],
        # the journey's counters, profile.first_name (a placeholder), the caps
        # (exposures; cart-reminder's per-session cap and the session policy), recs
        "profile": [
            "cart_items",
            "exposures",
            "pageviews",
            "purchases",
            "session",
            "traits",
            "viewed",
            "visits",
        ],
        "custom": [],
        "query": ["*"],
        "time": "hour",
    }


def test_views_that_differ_only_in_what_is_not_read_get_the_same_decisions() -> None:
    # Given the demo ruleset, which reads no geo, segments or custom attributes
    compiled = compile_file(ROOT / "examples" / "demo-shop.yaml")
    assert compiled.ruleset is not None
    found = reads(compiled.ruleset)
    assert {"geo", "segments"}.isdisjoint(found.parts) and found.custom == ()
    base = {
        "languages": ["pt-BR"],
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
        "local_time": "2026-11-25T19:42:10",
        "timezone": "America/Sao_Paulo",
        "url": "https://shop.example/?utm_campaign=bf-1",
        "consent": {"analytics": True, "personalization": True},
        "visitor_id": "v-1",
    }
    other = base | {"geo": {"country": "PT"}, "segments": ["vip"], "custom": {"plan": "x"}}
    # When both are decided
    first = decide_signals(compiled.ruleset, base, {}, NOW)[1]
    second = decide_signals(compiled.ruleset, other, {}, NOW)[1]
    # Then they are the same result, and a read part does change it
    assert first.decisions == second.decisions
    english = decide_signals(compiled.ruleset, base | {"languages": ["en"]}, {}, NOW)[1]
    assert english.decisions != first.decisions


# --- Result.valid: the window decide computed ------------------------------------------


def _at(ruleset: Ruleset, now: datetime, profile: dict[str, Any] | None = None) -> Any:
    context = {"consent": {"analytics": True, "personalization": True}, "id": "v-1"}
    return decide(ruleset, context, profile or {}, now)


def test_the_window_ends_at_the_next_schedule_edge() -> None:
    moment = NOW.timestamp()
    running = Ruleset(
        site="s",
        slots={"hero": Slot("hero", "#h")},
        experiences=(
            Experience(id="later", slot="hero", priority=9, consent="none",
                       schedule=Schedule(start=moment + 600), variants=(Variant("v", 1.0),)),
            Experience(id="now", slot="hero", consent="none",
                       schedule=Schedule(start=moment - 60, end=moment + 3600),
                       variants=(Variant("v", 1.0),)),
        ),
    )  # fmt: skip
    result = _at(running, NOW)
    assert result.decision("hero").experience == "now"
    assert result.valid == (moment - 60, moment + 600)
    # And the result cache answers with the same window
    assert _at(running, NOW + timedelta(seconds=5)).valid == (moment - 60, moment + 600)


def test_the_window_ends_when_an_exposure_leaves_the_cap() -> None:
    ruleset = _one(frequency=Frequency(1, "day"))
    shown = NOW - timedelta(hours=3)
    profile = {"exposures": {"e": [shown.isoformat()]}}
    result = _at(ruleset, NOW, profile)
    assert result.decision("hero").reason == "frequency_cap"
    assert result.valid == (shown.timestamp(), shown.timestamp() + 86_400)


def test_an_unbounded_result_is_valid_forever_and_a_failure_never() -> None:
    assert _at(_one(), NOW).valid == (-math.inf, math.inf)
    broken: Any = _one()
    object.__setattr__(broken, "experiences", (None,))  # no dataclass would let it
    failed = decide(broken, {}, {}, NOW)
    assert failed.decision("hero").reason == "error"
    assert failed.valid == (NOW.timestamp(), NOW.timestamp())


# --- valid_window: cut at the local unit, in ms -------------------------------------------


def _window(
    time: str | None,
    signals: dict[str, Any],
    *,
    valid: tuple[float, float] = (-math.inf, math.inf),
    profile: tuple[str, ...] = (),
    context: dict[str, Any] | None = None,
    now: datetime = NOW,
) -> list[int | None]:
    read = Reads(("consent",), profile, (), (), time)
    return valid_window(read, valid, signals=signals, context=context or {}, now=now)


MS = int(NOW.timestamp() * 1000)
LOCAL = {"local_time": "2026-11-25T19:42:10"}  # 22:42:10 UTC on a UTC-3 device


@pytest.mark.parametrize(
    ("time", "since", "until"),
    [
        ("minute", -10, 50),
        ("hour", -(42 * 60 + 10), 17 * 60 + 50),  # now + 17 min 50 s
        ("date", -(19 * 3600 + 42 * 60 + 10), 4 * 3600 + 17 * 60 + 50),  # local midnight
    ],
)
def test_the_window_is_the_current_unit_of_the_device_clock(
    time: str, since: int, until: int
) -> None:
    assert _window(time, LOCAL) == [MS + since * 1000, MS + until * 1000]


def test_no_unit_read_leaves_the_run_window_alone_in_ms() -> None:
    assert _window(None, LOCAL) == [None, None]
    assert _window(None, LOCAL, valid=(100.5, 200.25)) == [100_500, 200_250]


def test_the_run_window_and_the_unit_intersect() -> None:
    soon = NOW.timestamp() + 120
    assert _window("hour", LOCAL, valid=(0.0, soon)) == [
        MS - (42 * 60 + 10) * 1000,
        MS + 120_000,
    ]


def test_a_local_time_read_a_little_earlier_names_the_same_boundary() -> None:
    # The page read its clock 3 s before the worker decided: the offset is still -3 h.
    later = NOW + timedelta(seconds=3)
    assert _window("hour", LOCAL, now=later)[1] == MS + (17 * 60 + 50) * 1000


def test_without_local_time_the_time_zone_and_now_give_the_clock() -> None:
    # 22:42:10 UTC is 23:42:10 in Paris: the hour ends in 17 min 50 s, the day in 17:50 too
    paris = {"timezone": "Europe/Paris"}
    assert _window("hour", paris)[1] == MS + (17 * 60 + 50) * 1000
    assert _window("date", paris)[1] == MS + (17 * 60 + 50) * 1000
    # An explicit offset is taken as sent; no clock at all reads UTC
    assert _window("hour", {"local_time": "2026-11-25T23:42:10+01:00"})[1] == MS + 1_070_000
    assert _window("date", {})[1] == MS + (3600 + 17 * 60 + 50) * 1000


def test_days_since_last_visit_steps_a_day_after_the_last_visit() -> None:
    seen = NOW - timedelta(days=2, hours=5)
    context = {"profile": {"last_seen": seen.isoformat()}}
    window = _window(None, LOCAL, profile=("last_seen",), context=context)
    assert window == [
        int((seen + timedelta(days=2)).timestamp() * 1000),
        int((seen + timedelta(days=3)).timestamp() * 1000),
    ]
    # Without a profile (no consent) nothing narrows it
    assert _window(None, LOCAL, profile=("last_seen",)) == [None, None]


def test_disjoint_windows_are_empty() -> None:
    past = (0.0, 1.0)
    window = _window("hour", LOCAL, valid=past)
    assert window[0] is not None and window[0] == window[1]


# --- the key is enough: views that agree on what is read are decided alike -------------

_CONDITIONS: list[dict[str, Any]] = [
    {"device.type": "mobile"},
    {"language": "pt"},
    {"locale": "en-US"},
    {"local.hour": {"$gte": 12}},
    {"local.minute": {"$lt": 30}},
    {"local.weekday": {"$in": [6, 7]}},
    {"channel": "email"},
    {"page.path": "/sale"},
    {"page.query.landing": {"$exists": True}},
    {"utm.campaign": {"$regex": "^bf"}},
    {"referrer": {"$regex": "google"}},
    {"geo.country": "BR"},
    {"segments": {"$elemMatch": {"$eq": "vip"}}},
    {"custom.plan": "gold"},
    {"profile.visits": {"$gte": 2}},
    {"profile.first_name": {"$exists": True}},
    {"profile.days_since_last_visit": {"$gte": 1}},
]
_UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36",
)


def _random_ruleset(rng: Any) -> Ruleset:
    experiences = tuple(
        Experience(
            id=f"e{i}",
            slot=rng.choice(("a", "b")),
            consent=rng.choice(("none", "personalization")),
            audience={"$and": rng.sample(_CONDITIONS, rng.randint(1, 2))},
            variants=(Variant("v", 1.0, {"text": rng.choice(("x", "{custom.name|y}"))}),),
        )
        for i in range(rng.randint(1, 4))
    )
    return Ruleset(site="s", slots={s: Slot(s, f"#{s}") for s in "ab"}, experiences=experiences)


def _signals(rng: Any, base: dict[str, Any] | None = None, read: Reads | None = None) -> Any:
    """Random signals; with `base` and `read`, a copy of `base` that differs only
    where `read` says nothing is read."""
    day, hour, minute = rng.randint(20, 26), rng.randint(0, 23), rng.randint(0, 59)
    fresh = {
        "device": {"user_agent": rng.choice(_UAS)},
        "languages": {"languages": [rng.choice(("pt-BR", "en-US", "de"))]},
        "path": {"url": "https://shop.example" + rng.choice(("/", "/sale", "/p"))
                 + rng.choice(("", "?landing=b", "?utm_campaign=bf1", "?utm_medium=email"))},
        "referrer": {"referrer": rng.choice(("", "https://www.google.com/"))},
        "geo": {"geo": {"country": rng.choice(("BR", "PT"))}},
        "segments": {"segments": rng.choice(([], ["vip"]))},
        "custom": {"custom": rng.choice(({}, {"plan": "gold", "name": "Bo"}))},
        "timezone": {"local_time": f"2026-11-{day}T{hour:02d}:{minute:02d}:00"},
    }  # fmt: skip
    profile = {"visits": rng.randint(0, 3), "last_seen": f"2026-11-{day - 2}T10:00:00Z"}
    if rng.random() < 0.5:
        profile["traits"] = {"first_name": "Ana"}
    consent = {"analytics": True, "personalization": True}
    if base is None or read is None:
        signals: dict[str, Any] = {"consent": consent, "visitor_id": "v-1", "profile": profile}
        for part in fresh.values():
            signals.update(part)
        return signals
    signals = dict(base)
    for group, part in fresh.items():
        if group not in read.parts and not (group == "custom" and read.custom):
            signals.update(part)
    if read.time == "date":  # the same date, any time of it
        signals["local_time"] = base["local_time"][:11] + fresh["timezone"]["local_time"][11:]
    elif read.time == "hour":  # the same hour, any minute of it
        signals["local_time"] = base["local_time"][:14] + f"{rng.randint(0, 59):02d}:00"
    old = base["profile"]
    signals["profile"] = {k: (old if k in read.profile else profile).get(k) for k in profile}
    if "traits" in read.profile:
        signals["profile"]["traits"] = old.get("traits")
    return signals


def test_views_that_agree_on_what_is_read_are_decided_alike() -> None:
    import random

    rng = random.Random(8)
    for _ in range(400):
        # Given a random ruleset and a view, and another that differs only in what
        # the ruleset does not read
        ruleset = _random_ruleset(rng)
        read = reads(ruleset)
        first = _signals(rng)
        second = _signals(rng, first, read)
        # Then both are decided alike
        one = decide_signals(ruleset, first, first["profile"], NOW)[1].decisions
        two = decide_signals(ruleset, second, second["profile"], NOW)[1].decisions
        assert one == two, (ruleset.experiences, read, first, second)
