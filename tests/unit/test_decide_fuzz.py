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
