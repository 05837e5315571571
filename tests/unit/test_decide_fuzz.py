"""decide() never raises for a valid ruleset, whatever the context and profile hold.

Junk comes from hypothesis: JSON-ish values in every place decide reads (consent,
id, page, profile exposures, assignments, session, viewed), plus a few non-JSON
values. It calls `decide_unguarded` (no safety net) so a bug shows as a failure
rather than as a quiet fallback to defaults; CPython only (hypothesis).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.decide import decide, decide_unguarded
from edge.model import Experience, Frequency, Ruleset, Schedule, Slot, Variant
from tests._factories import NOW, generated_ruleset

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["2026-11-25T21:00:00Z", "2026-11-25", "sku-1", "control", "v1", "{x}"]),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
        st.tuples(inner, inner),
    ),
    max_leaves=12,
)
KEYS = ["id", "consent", "page", "profile", "device", "local", "language", "journey", "geo"]
PROFILE_KEYS = ["exposures", "assignments", "session", "viewed", "visits", "first_name"]


def _keyed(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), junk, max_size=6)


contexts = st.one_of(junk, _keyed(KEYS))
profiles = st.one_of(
    junk,
    _keyed(PROFILE_KEYS),
    st.fixed_dictionaries(
        {
            "exposures": st.dictionaries(
                st.sampled_from(["exp-000", "exp-001", "capped", "hello"]), junk, max_size=3
            ),
            "assignments": st.dictionaries(st.sampled_from(["exp-001", "split"]), junk),
            "session": junk,
            "viewed": junk,
        }
    ),
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)

SMALL = Ruleset(
    site="fuzz",
    holdout=0.2,
    slots={"hero": Slot("hero", "#h"), "recs": Slot("recs", "#r")},
    experiences=(
        Experience(
            id="hello",
            slot="hero",
            consent="none",
            variants=(Variant("on", 1.0, {"html": "Hi {profile.first_name|<there>}"}),),
            frequency=Frequency(max=2, per="session"),
        ),
        Experience(
            id="split",
            slot="hero",
            audience={"$or": [{"device.type": "mobile"}, {"page.query.id": {"$exists": True}}]},
            schedule=Schedule(start=0, end=NOW.timestamp() + 86_400),
            variants=(Variant("control", 0.5), Variant("v1", 0.5, {"redirect": "/{id}"})),
        ),
        Experience(
            id="capped",
            slot="recs",
            frequency=Frequency(max=1, per="day"),
            variants=(Variant("on", 1.0, {"recommend": {"list": "co_viewed", "count": 2}}),),
        ),
    ),
)
BIG = generated_ruleset(experiences=60, slots=6, seed=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(context=contexts, profile=profiles, now=moments, explain=st.booleans())
def test_junk_never_raises_and_every_slot_is_decided(
    context: Any, profile: Any, now: datetime, explain: bool
) -> None:
    for rules in (SMALL, BIG):
        result = decide_unguarded(rules, context, profile, now, explain=explain)
        assert [d.slot for d in result.decisions] == list(rules.slots)
        for decision in result.decisions:
            assert (decision.experience is None) == (decision.reason != "matched")
        assert len(result.exposures) >= sum(d.reason == "matched" for d in result.decisions)
        result.to_dict()


@settings(max_examples=100, deadline=None)
@given(context=_keyed(KEYS), profile=_keyed(PROFILE_KEYS), offset=st.integers(0, 10**6))
def test_repeated_junk_gives_the_same_result_cached_or_not(
    context: dict[str, Any], profile: dict[str, Any], offset: int
) -> None:
    now = NOW + timedelta(seconds=offset)
    first = decide(SMALL, context, profile, now).to_dict()
    again = decide(SMALL, context, profile, now).to_dict()
    explained = decide(SMALL, context, profile, now, explain=True).to_dict()
    assert first == again
    for plain, full in zip(first["decisions"], explained["decisions"], strict=True):
        assert {**full, "trace": []} == plain


_WINDOWS = {"day": 86_400.0, "week": 7 * 86_400.0, "month": 30 * 86_400.0}


def _model_capped(
    per: str, stamps: list[float], started: float | None, now: float, most: int
) -> bool:
    """DESIGN §5's caps on their own: exposures in (now - w, now], or since the session
    started (none without one), or ever; never one stamped after now."""
    if per == "session":
        counted = [t for t in stamps if started is not None and started <= t <= now]
    else:
        since = now - _WINDOWS.get(per, float("inf"))
        counted = [t for t in stamps if since < t <= now]
    return len(counted) >= most


@settings(max_examples=200, deadline=None)
@given(
    per=st.sampled_from(["session", "day", "week", "month", "lifetime"]),
    offsets=st.lists(st.integers(-3 * 86_400, 35 * 86_400), max_size=5),
    started=st.one_of(st.none(), st.integers(-86_400, 86_400)),
    most=st.integers(1, 3),
    steps=st.lists(st.integers(-86_400, 31 * 86_400), min_size=1, max_size=4),
)
def test_caps_agree_with_a_model_of_the_windows_cached_or_not(
    per: str, offsets: list[int], started: int | None, most: int, steps: list[int]
) -> None:
    # Given exposures stamped around NOW (some after it: a clock that stepped back)
    base = NOW.timestamp()
    stamps = [base - o for o in offsets]
    rules = Ruleset(
        site="caps",
        slots={"hero": Slot("hero", "#h")},
        experiences=(
            Experience(
                id="capped",
                slot="hero",
                consent="none",
                frequency=Frequency(max=most, per=per),
                variants=(Variant("on", 1.0, {"text": "x"}),),
            ),
        ),
    )
    profile: dict[str, Any] = {"exposures": {"capped": stamps}}
    if started is not None:
        profile["session"] = {"started": base - started}
    context = {"page": {"url": "/"}, "consent": {}}
    # When the same context is decided at several moments (the result cache answers
    # from the second call on, for as long as it believes the result holds)
    for step in [0, 0, *steps]:
        now = base + step
        decision = decide(rules, context, profile, NOW + timedelta(seconds=step)).decision("hero")
        # Then every answer is the model's
        capped = _model_capped(per, stamps, None if started is None else base - started, now, most)
        assert decision.reason == ("frequency_cap" if capped else "matched"), (step, decision)
