"""edge.decide: one decision per slot (DESIGN §5). Pytest only: it also runs in Pyodide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from edge import bucketing
from edge.decide import HOLDOUT_EXPERIENCE, Decision, Result, decide
from edge.decide._prepare import prepare
from edge.limits import MAX_REGEX_INPUT
from edge.model import (
    Experience,
    Frequency,
    JourneyStage,
    Learned,
    Policy,
    Ruleset,
    Schedule,
    Slot,
    Variant,
)

NOW = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)
GRANTED = {"analytics": True, "personalization": True}


def one(exp_id: str, *, content: Any = None, **fields: Any) -> Experience:
    """A single-variant experience showing `content` (default text: its id)."""
    fields.setdefault("slot", "hero")
    body = {"text": exp_id} if content is None else content
    return Experience(id=exp_id, variants=(Variant("on", 1.0, body),), **fields)


def ab(exp_id: str, weights: tuple[float, ...] = (0.5, 0.5), **fields: Any) -> Experience:
    fields.setdefault("slot", "hero")
    variants = tuple(
        Variant("control" if i == 0 else f"v{i}", w, None if i == 0 else {"text": f"v{i}"})
        for i, w in enumerate(weights)
    )
    return Experience(id=exp_id, variants=variants, **fields)


def ruleset(*experiences: Experience, slots: tuple[str, ...] = ("hero",), **fields: Any) -> Ruleset:
    return Ruleset(
        site="shop",
        slots={s: Slot(s, f"#{s}") for s in slots},
        experiences=experiences,
        **fields,
    )


def ctx(visitor: str | None = "visitor-1", **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "device": {"type": "mobile"},
        "language": "pt",
        "consent": dict(GRANTED),
        "page": {"path": "/", "query": {}},
        "profile": {"visits": 1},
    }
    if visitor is not None:
        context["id"] = visitor
    context.update(extra)
    return context


def hero(result: Result) -> Decision:
    return result.decision("hero")


# -- priority and order ------------------------------------------------------------


def test_higher_priority_wins_over_file_order() -> None:
    rs = ruleset(one("low", priority=1), one("high", priority=10))
    assert hero(decide(rs, ctx(), {}, NOW)).experience == "high"


def test_equal_priorities_keep_file_order() -> None:
    rs = ruleset(one("first", priority=5), one("second", priority=5), one("third", priority=5))
    assert hero(decide(rs, ctx(), {}, NOW)).experience == "first"


def test_one_decision_per_slot_in_declared_order_and_empty_slot_is_no_match() -> None:
    rs = ruleset(one("b-exp", slot="b"), slots=("b", "a", "c"))
    result = decide(rs, ctx(), {}, NOW)
    assert [d.slot for d in result.decisions] == ["b", "a", "c"]
    assert [d.reason for d in result.decisions] == ["matched", "no_match", "no_match"]


# -- schedule ----------------------------------------------------------------------


def test_schedule_start_is_inclusive_and_end_exclusive() -> None:
    start, end = NOW.timestamp(), NOW.timestamp() + 3600
    rs = ruleset(one("timed", schedule=Schedule(start=start, end=end)))
    at = NOW.__add__
    assert hero(decide(rs, ctx(), {}, at(timedelta(seconds=-1)))).reason == "schedule"
    assert hero(decide(rs, ctx(), {}, NOW)).reason == "matched"
    assert hero(decide(rs, ctx(), {}, at(timedelta(seconds=3599)))).reason == "matched"
    assert hero(decide(rs, ctx(), {}, at(timedelta(seconds=3600)))).reason == "schedule"


def _new_york(*fields: int, dst: bool) -> datetime:
    """A New York wall time; zoneinfo when the tz database is there (Pyodide has none
    unless tzdata is loaded), and then checked against the offset we expect."""
    fixed = datetime(*fields, tzinfo=timezone(timedelta(hours=-4 if dst else -5)))  # type: ignore[misc]
    try:
        from zoneinfo import ZoneInfo

        zoned = datetime(*fields, tzinfo=ZoneInfo("America/New_York"))  # type: ignore[misc]
    except Exception:  # ZoneInfoNotFoundError (or no zoneinfo): use the fixed offset
        return fixed
    assert zoned.utcoffset() == fixed.utcoffset()
    return zoned


def test_schedule_window_across_the_spring_forward_night() -> None:
    # Given a campaign from 00:00 to 03:00 New York time on 2026-03-08, the night the
    # clocks jump from 02:00 to 03:00: it lasts two real hours, not three.
    start = _new_york(2026, 3, 8, 0, 0, dst=False)
    end = _new_york(2026, 3, 8, 3, 0, dst=True)
    assert end.timestamp() - start.timestamp() == 2 * 3600
    rs = ruleset(one("night", schedule=Schedule(start=start.timestamp(), end=end.timestamp())))
    utc = datetime(2026, 3, 8, tzinfo=UTC)
    # When deciding around the boundaries (in UTC, and in local time for `now`)
    running = [
        hero(decide(rs, ctx(), {}, utc + timedelta(hours=h, minutes=m))).reason == "matched"
        for h, m in ((4, 59), (5, 0), (6, 59), (7, 0), (7, 30))
    ]
    # Then it runs from 05:00 UTC (00:00 EST) until 07:00 UTC (03:00 EDT) exclusive
    assert running == [False, True, True, False, False]
    local_now = _new_york(2026, 3, 8, 1, 59, dst=False)
    assert hero(decide(rs, ctx(), {}, local_now)).reason == "matched"


def test_naive_now_is_taken_as_utc() -> None:
    rs = ruleset(one("timed", schedule=Schedule(start=NOW.timestamp(), end=None)))
    assert hero(decide(rs, ctx(), {}, NOW.replace(tzinfo=None))).reason == "matched"


# -- consent and visitor id --------------------------------------------------------


def test_consent_purpose_must_be_granted_and_none_always_is() -> None:
    rs = ruleset(
        one("needs-perso", priority=3),
        one("needs-analytics", priority=2, consent="analytics"),
        one("no-consent", priority=1, consent="none"),
    )
    only_analytics = ctx(consent={"analytics": True, "personalization": False})
    nothing = ctx(consent={})
    assert hero(decide(rs, ctx(), {}, NOW)).experience == "needs-perso"
    assert hero(decide(rs, only_analytics, {}, NOW)).experience == "needs-analytics"
    assert hero(decide(rs, nothing, {}, NOW)).experience == "no-consent"


def test_without_visitor_id_only_single_variant_consent_none_experiences_run() -> None:
    rs = ruleset(
        ab("split", priority=3, consent="none"),
        one("partial", priority=2, consent="none", coverage=0.5),
        one("plain", priority=1, consent="none"),
    )
    result = decide(rs, ctx(visitor=None, consent={}), {}, NOW, explain=True)
    assert hero(result).experience == "plain"
    assert result.assignments == {}  # nothing to keep without consent
    assert result.exposures == [{"experience": "plain", "variant": "on", "slot": "hero"}]
    assert "split: needs a visitor id" in hero(result).trace[0]
    alone = ruleset(ab("split", consent="none"))
    assert hero(decide(alone, ctx(visitor=None), {}, NOW)).reason == "consent"


# -- audience and journey ----------------------------------------------------------


def test_audience_must_match() -> None:
    rs = ruleset(one("desktop-only", audience={"device.type": "desktop"}))
    assert hero(decide(rs, ctx(), {}, NOW)).reason == "audience"
    desktop = ctx(device={"type": "desktop"})
    assert hero(decide(rs, desktop, {}, NOW)).experience == "desktop-only"


def test_journey_first_matching_stage_is_seen_by_audiences() -> None:
    journey = (
        JourneyStage("customer", {"profile.purchases": {"$gte": 1}}),
        JourneyStage("returning", {"profile.visits": {"$gte": 2}}),
        JourneyStage("new", {}),
    )
    rs = ruleset(
        one("for-returning", audience={"journey": "returning"}, priority=1),
        one("fallback"),
        journey=journey,
    )
    context = ctx(profile={"visits": 4, "purchases": 0})
    result = decide(rs, context, {}, NOW)
    assert result.journey == "returning"
    assert hero(result).experience == "for-returning"
    assert "journey" not in context  # the caller's context is left alone
    first_visit = decide(rs, ctx(profile={"visits": 1}), {}, NOW)
    assert (first_visit.journey, hero(first_visit).experience) == ("new", "fallback")


@pytest.mark.timeout(10)  # a stall fails here instead of hanging the run (CPython only)
def test_a_crafted_regex_that_backtracks_for_minutes_cannot_stall_decide() -> None:
    # Given an artifact built without the compiler, whose audiences would keep a
    # backtracking matcher busy for a minute on 41 characters (or hours, on more)
    stalls = ["(a+)+$", "(a|a)*$", r"(\w+\s?)+$", ".*.*.*x"]
    rs = ruleset(
        *(
            one(f"stall-{i}", priority=1, audience={"page.url": {"$regex": p}})
            for i, p in enumerate(stalls)
        ),
        one("fallback"),
    )
    # When a visitor comes with a URL crafted for them, as `perso simulate` would decide
    page = {"url": "https://shop.example/?q=" + "a" * 40 + "!", "path": "/"}
    fast, explained = (decide(rs, ctx(page=page), {}, NOW, explain=e) for e in (False, True))
    # Then those patterns fail as invalid ones do, at once, and the fallback shows
    assert hero(fast).experience == hero(explained).experience == "fallback"
    assert [line.split(":")[0] for line in hero(explained).trace] == [
        "stall-0", "stall-1", "stall-2", "stall-3", "fallback"
    ]  # fmt: skip


def test_regexes_read_only_the_first_characters_of_a_value() -> None:
    # Given an audience looking for a word, and values with it before and after the
    # first MAX_REGEX_INPUT characters (2,048: longer than any real URL)
    rs = ruleset(one("found", audience={"page.url": {"$regex": "needle$"}}))
    early = "x" * (MAX_REGEX_INPUT - 6) + "needle"
    late = "x" * MAX_REGEX_INPUT + "needle"
    # Then only the early one matches (and `$` reads the cut as the end)
    assert hero(decide(rs, ctx(page={"url": early + "x" * 99}), {}, NOW)).experience == "found"
    assert hero(decide(rs, ctx(page={"url": late}), {}, NOW)).experience is None


# -- frequency caps ----------------------------------------------------------------


def _exposed(exp_id: str, *ago: timedelta, **profile: Any) -> dict[str, Any]:
    stamps = [(NOW - a).isoformat().replace("+00:00", "Z") for a in ago]
    return {"exposures": {exp_id: stamps}, **profile}


@pytest.mark.parametrize(
    ("per", "inside", "outside"),
    [
        ("day", timedelta(hours=23, minutes=59), timedelta(hours=24, seconds=1)),
        ("week", timedelta(days=6, hours=23), timedelta(days=7, seconds=1)),
        ("month", timedelta(days=29, hours=23), timedelta(days=30, seconds=1)),
    ],
)
def test_rolling_caps_count_only_exposures_inside_the_window(
    per: str, inside: timedelta, outside: timedelta
) -> None:
    rs = ruleset(one("capped", frequency=Frequency(max=2, per=per)))
    under = _exposed("capped", inside, outside, outside)
    at_cap = _exposed("capped", inside, inside, outside)
    assert hero(decide(rs, ctx(), under, NOW)).reason == "matched"
    assert hero(decide(rs, ctx(), at_cap, NOW)).reason == "frequency_cap"


def test_lifetime_cap_counts_everything_readable() -> None:
    rs = ruleset(one("once", frequency=Frequency(max=1, per="lifetime")))
    old = _exposed("once", timedelta(days=900))
    garbage = {"exposures": {"once": ["not a date", None, {"x": 1}]}}
    assert hero(decide(rs, ctx(), old, NOW)).reason == "frequency_cap"
    assert hero(decide(rs, ctx(), garbage, NOW)).reason == "matched"


def test_session_cap_counts_since_the_session_started() -> None:
    rs = ruleset(one("per-session", frequency=Frequency(max=1, per="session")))
    started = (NOW - timedelta(minutes=10)).isoformat()
    before = _exposed("per-session", timedelta(minutes=30), session={"started": started})
    during = _exposed("per-session", timedelta(minutes=5), session={"started": started})
    no_session = _exposed("per-session", timedelta(minutes=5))
    assert hero(decide(rs, ctx(), before, NOW)).reason == "matched"
    assert hero(decide(rs, ctx(), during, NOW)).reason == "frequency_cap"
    assert hero(decide(rs, ctx(), no_session, NOW)).reason == "matched"


@pytest.mark.parametrize("per", ["session", "day", "week", "month", "lifetime"])
def test_exposures_stamped_after_now_do_not_count_until_then(per: str) -> None:
    # Given a cap of 1 and the one exposure stamped an hour ahead of now (the device
    # clock was ahead, then stepped back), in a session that started before both
    rs = ruleset(one("capped", frequency=Frequency(max=1, per=per)))
    session = {"started": (NOW - timedelta(hours=2)).isoformat()}
    profile = _exposed("capped", -timedelta(hours=1), session=session)
    # When deciding now, and again once that moment has passed (same context: the
    # second call is served by the result cache if it thinks the result still holds)
    before = hero(decide(rs, ctx(), profile, NOW)).reason
    after = hero(decide(rs, ctx(), profile, NOW + timedelta(hours=1, seconds=1))).reason
    # Then the window is (now - w, now]: it does not count yet, and counts from then on
    assert (before, after) == ("matched", "frequency_cap")


def test_an_old_artifact_capped_per_view_is_not_capped() -> None:
    # Given an artifact from before `per: view` was refused (even with max 0, which the
    # compiler never allowed): a per-view cap never held, so it is no cap
    for most in (0, 1):
        rs = ruleset(one("each-view", frequency=Frequency(max=most, per="view")))
        profile = _exposed("each-view", timedelta(seconds=1))
        # When deciding, fast or explained, Then it is shown
        assert hero(decide(rs, ctx(), profile, NOW)).reason == "matched"
        assert hero(decide(rs, ctx(), profile, NOW, explain=True)).reason == "matched"


def test_capped_experience_gives_way_to_the_next() -> None:
    rs = ruleset(one("capped", priority=2, frequency=Frequency(max=1, per="day")), one("next"))
    profile = _exposed("capped", timedelta(hours=1))
    assert hero(decide(rs, ctx(), profile, NOW)).experience == "next"


# -- page policy -------------------------------------------------------------------


def test_max_experiences_per_page_leaves_later_slots_to_defaults() -> None:
    rs = ruleset(
        one("a", slot="s1"),
        ab("b", slot="s2"),
        one("c", slot="s3"),
        slots=("s1", "s2", "s3"),
        policy=Policy(max_experiences_per_page=2),
    )
    result = decide(rs, ctx(), {}, NOW)
    assert [d.reason for d in result.decisions] == ["matched", "matched", "policy"]
    assert len(result.exposures) == 2  # a control variant counts as a decision too


def test_max_exposures_per_session_adds_the_page_to_the_session_count() -> None:
    rs = ruleset(
        one("a", slot="s1"),
        one("b", slot="s2"),
        slots=("s1", "s2"),
        policy=Policy(max_exposures_per_session=5),
    )
    profile = {"session": {"id": "s", "started": NOW.isoformat(), "exposures": 4}}
    reasons = [d.reason for d in decide(rs, ctx(), profile, NOW).decisions]
    assert reasons == ["matched", "policy"]
    full = {"session": {"exposures": 5}}
    assert [d.reason for d in decide(rs, ctx(), full, NOW).decisions] == ["policy", "policy"]


# -- variants: coverage, stickiness, weights ---------------------------------------


def _shares(rs: Ruleset, n: int = 3000) -> dict[str | None, float]:
    counts: dict[str | None, int] = {}
    for i in range(n):
        variant = hero(decide(rs, ctx(visitor=f"id-{i}"), {}, NOW)).variant
        counts[variant] = counts.get(variant, 0) + 1
    return {k: v / n for k, v in counts.items()}


def test_variants_follow_weights_with_growthbook_hash() -> None:
    rs = ruleset(ab("split", weights=(0.2, 0.8)))
    shares = _shares(rs)
    assert shares["control"] == pytest.approx(0.2, abs=0.03)
    assert shares["v1"] == pytest.approx(0.8, abs=0.03)
    # And each visitor gets what GrowthBook's hash v2 (seed = experience id) gives.
    ranges = bucketing.get_bucket_ranges(2, 1.0, [0.2, 0.8])
    for i in range(50):
        expected = bucketing.choose_variation(bucketing.hash("split", f"id-{i}", 2) or 0, ranges)
        got = hero(decide(rs, ctx(visitor=f"id-{i}"), {}, NOW)).variant
        assert got == ("control", "v1")[expected]


def test_coverage_leaves_the_rest_to_the_next_experience() -> None:
    rs = ruleset(ab("half", priority=1, coverage=0.5), one("rest"))
    shares = {}
    for i in range(2000):
        decision = hero(decide(rs, ctx(visitor=f"c-{i}"), {}, NOW))
        shares[decision.experience] = shares.get(decision.experience, 0) + 1
    assert shares["half"] / 2000 == pytest.approx(0.5, abs=0.04)
    zero = ruleset(ab("none", coverage=0.0))
    assert hero(decide(zero, ctx(), {}, NOW)).reason == "coverage"


def test_sticky_assignment_is_kept_and_unknown_ones_are_ignored() -> None:
    rs = ruleset(ab("split", weights=(0.5, 0.5)))
    hashed = hero(decide(rs, ctx(), {}, NOW)).variant
    other = "v1" if hashed == "control" else "control"
    kept = decide(rs, ctx(), {"assignments": {"split": other}}, NOW)
    assert hero(kept).variant == other
    assert kept.assignments == {"split": other}
    stale = decide(rs, ctx(), {"assignments": {"split": "removed-variant"}}, NOW)
    assert hero(stale).variant == hashed


def test_bandit_uses_learned_weights_of_the_right_length_only() -> None:
    learned = Learned(weights={"bandit": [0.9, 0.1], "fixed": [0.9, 0.1], "bad": [1.0]})
    bandit = ruleset(ab("bandit", allocation="bandit"), learned=learned)
    fixed = ruleset(ab("fixed"), learned=learned)
    bad = ruleset(ab("bad", allocation="bandit"), learned=learned)
    assert _shares(bandit, 2000)["control"] == pytest.approx(0.9, abs=0.03)
    assert _shares(fixed, 2000)["control"] == pytest.approx(0.5, abs=0.04)
    assert _shares(bad, 2000)["control"] == pytest.approx(0.5, abs=0.04)


# -- holdout -----------------------------------------------------------------------


def test_holdout_share_is_near_the_setting_and_holdout_sees_defaults() -> None:
    rs = ruleset(one("promo"), holdout=0.1)
    n, held = 4000, 0
    for i in range(n):
        result = decide(rs, ctx(visitor=f"h-{i}"), {}, NOW)
        if hero(result).reason == "holdout":
            held += 1
            assert hero(result).experience is None
            assert result.exposures == [
                {"experience": HOLDOUT_EXPERIENCE, "variant": "holdout", "slot": None}
            ]
            assert result.assignments == {}
        else:
            assert hero(result).experience == "promo"
    assert held / n == pytest.approx(0.1, abs=0.015)


def test_no_holdout_without_visitor_id() -> None:
    rs = ruleset(one("promo", consent="none"), holdout=1.0, holdout_scope="all")
    assert hero(decide(rs, ctx(visitor=None), {}, NOW)).experience == "promo"
    assert hero(decide(rs, ctx(), {}, NOW)).reason == "holdout"


def test_consenting_in_the_holdout_keeps_what_needed_no_consent() -> None:
    # Given a context-only banner and a personalized hero, and a visitor in the holdout
    rs = ruleset(
        one("promo", consent="none", slot="banner"),
        one("hello", priority=10),
        one("hero-ctx", consent="none"),
        slots=("hero", "banner"),
        holdout=1.0,
    )
    before = decide(rs, ctx(visitor=None), {}, NOW)
    assert [d.experience for d in before.decisions] == ["hero-ctx", "promo"]
    # When they consent (scope consent, the default)
    after = decide(rs, ctx(), {}, NOW, explain=True)
    # Then what they saw stays; only what consent adds is withheld, and the view counts
    assert [d.experience for d in after.decisions] == ["hero-ctx", "promo"]
    assert {"experience": HOLDOUT_EXPERIENCE, "variant": "holdout", "slot": None} in after.exposures
    assert {e["experience"] for e in after.exposures} == {HOLDOUT_EXPERIENCE, "hero-ctx", "promo"}
    assert any("what consent adds" in line for line in after.trace)
    # With scope all, everything is withheld
    every = ruleset(*rs.experiences, slots=("hero", "banner"), holdout=1.0, holdout_scope="all")
    held = decide(every, ctx(), {}, NOW)
    assert [d.reason for d in held.decisions] == ["holdout", "holdout"]
    assert held.exposures == [
        {"experience": HOLDOUT_EXPERIENCE, "variant": "holdout", "slot": None}
    ]
    assert held.assignments == {}


def test_a_consenting_holdout_visitor_is_told_the_real_reason() -> None:
    # Given a visitor who consented, is in the holdout, and matches no audience
    rs = ruleset(one("promo", audience={"language": "en"}), holdout=1.0)
    # When the page is explained
    result = decide(rs, ctx(), {}, NOW, explain=True)
    # Then the slot says why it kept its default as it would outside the holdout: the
    # audience, never a consent the visitor has granted (the second, consent-free pass)
    assert hero(result).reason == "audience"
    assert any("audience" in line for line in hero(result).trace)
    assert not any("not granted" in line for line in hero(result).trace)
    # And a withheld slot shows that it would have matched
    withheld = decide(rs, ctx(language="en"), {}, NOW, explain=True)
    assert any("matched" in line for line in hero(withheld).trace)
    assert any("withheld" in line for line in hero(withheld).trace)


def test_the_holdout_counts_a_view_only_when_something_was_withheld() -> None:
    rs = ruleset(one("promo", audience={"language": "en"}), holdout=1.0)
    nothing = decide(rs, ctx(), {}, NOW)  # promo would not match this visitor
    assert hero(nothing).reason == "audience"
    assert nothing.exposures == []
    withheld = decide(rs, ctx(language="en"), {}, NOW)
    assert hero(withheld).reason == "holdout"
    assert withheld.exposures == [
        {"experience": HOLDOUT_EXPERIENCE, "variant": "holdout", "slot": None}
    ]
    # context-only experiences are outside the default scope: nothing to count
    free = ruleset(one("promo", consent="none"), holdout=1.0)
    assert decide(free, ctx(), {}, NOW).exposures == [
        {"experience": "promo", "variant": "on", "slot": "hero"}
    ]


# -- exposures and content ---------------------------------------------------------


def test_control_without_content_is_an_exposure_and_assignment() -> None:
    rs = ruleset(ab("split", weights=(1.0, 0.0)))
    result = decide(rs, ctx(), {}, NOW)
    decision = hero(result)
    assert (decision.variant, decision.content, decision.reason) == ("control", None, "matched")
    assert result.exposures == [{"experience": "split", "variant": "control", "slot": "hero"}]
    assert result.assignments == {"split": "control"}
    assert result.to_dict()["decisions"][0]["experience"] == "split"


def test_placeholders_text_plain_html_escaped_redirect_encoded() -> None:
    content = {
        "text": "Hi {profile.first_name|there} <3",
        "html": "<b>{profile.first_name|<friend>}</b> from {geo.country|?}, {profile.visits}",
        "redirect": "/search?q={page.query.q}",
    }
    rs = ruleset(one("hello", content=content))
    named = ctx(profile={"first_name": "<Ann & Bo>", "visits": 3}, page={"query": {"q": "a b/c"}})
    filled = hero(decide(rs, named, {}, NOW)).content
    assert filled == {
        "text": "Hi <Ann & Bo> <3",
        "html": "<b>&lt;Ann &amp; Bo&gt;</b> from ?, 3",
        "redirect": "/search?q=a%20b%2Fc",
    }
    fallback = hero(decide(rs, ctx(profile={}), {}, NOW)).content
    assert fallback is not None
    assert fallback["text"] == "Hi there <3"
    assert fallback["html"] == "<b>&lt;friend&gt;</b> from ?, "
    assert content["text"] == "Hi {profile.first_name|there} <3"  # the ruleset is untouched


CATALOG = {f"sku-{n}": {"title": f"Item {n}"} for n in range(10)}


def _recommend(spec: dict[str, Any], **learned: Any) -> Ruleset:
    return ruleset(
        one("recs", content={"recommend": spec}), catalog=CATALOG, learned=Learned(**learned)
    )


def test_recommend_popular_filters_viewed_and_unknown_ids_then_truncates() -> None:
    rs = _recommend(
        {"list": "popular", "count": 3},
        recommendations={"popular": ["sku-1", "ghost", "sku-2", "sku-3", "sku-4", "sku-5"]},
    )
    content = hero(decide(rs, ctx(), {"viewed": ["sku-2"]}, NOW)).content
    assert content is not None
    assert [i["id"] for i in content["recommend"]["items"]] == ["sku-1", "sku-3", "sku-4"]
    assert content["recommend"]["items"][0]["title"] == "Item 1"
    keep_viewed = _recommend(
        {"list": "popular", "count": 2, "exclude_viewed": False},
        recommendations={"popular": ["sku-2", "sku-1"]},
    )
    again = hero(decide(keep_viewed, ctx(), {"viewed": ["sku-2"]}, NOW)).content
    assert again is not None
    assert [i["id"] for i in again["recommend"]["items"]] == ["sku-1"]  # sku-2 is current


def test_recommend_co_viewed_seeded_by_page_item_else_last_viewed() -> None:
    rs = _recommend(
        {"list": "co_viewed", "count": 5},
        co_viewed={"sku-1": ["sku-7", "sku-8"], "sku-3": ["sku-9", "sku-1"]},
    )
    on_page = ctx(page={"query": {"id": "sku-1"}})
    from_page = hero(decide(rs, on_page, {}, NOW)).content
    from_history = hero(decide(rs, ctx(), {"viewed": ["sku-1", "sku-3"]}, NOW)).content
    assert from_page is not None and from_history is not None
    assert [i["id"] for i in from_page["recommend"]["items"]] == ["sku-7", "sku-8"]
    assert [i["id"] for i in from_history["recommend"]["items"]] == ["sku-9"]


def test_empty_recommendations_fall_back_to_the_default() -> None:
    rs = _recommend({"list": "popular"}, recommendations={"popular": ["sku-1", "ghost"]})
    result = decide(rs, ctx(), {"viewed": ["sku-1"]}, NOW)
    assert (hero(result).experience, hero(result).reason) == (None, "no_recommendations")
    assert result.exposures == []


# -- explain -----------------------------------------------------------------------


def test_explain_says_which_condition_and_cap_held() -> None:
    segments = {"evening": {"local.hour": {"$gte": 18, "$lt": 23}}}
    rs = ruleset(
        one(
            "evening-free-shipping",
            priority=3,
            audience={
                "$and": [{"language": "pt"}, segments["evening"], {"device.type": "desktop"}]
            },
        ),
        one("late", priority=2, audience={"$and": [{"language": "pt"}, segments["evening"]]}),
        one("capped", priority=1, frequency=Frequency(max=3, per="day")),
        one("later", schedule=Schedule(start=NOW.timestamp() + 60)),
        segments=segments,
    )
    profile = _exposed("capped", *(timedelta(hours=h) for h in (1, 2, 3)))
    result = decide(rs, ctx(local={"hour": 9}), profile, NOW, explain=True)
    assert hero(result).trace == (
        "evening-free-shipping: audience failed at local.hour (segment evening)",
        "late: audience failed at local.hour (segment evening)",
        "capped: frequency cap 3/day reached (3 exposures)",
        "later: not scheduled now (runs 2026-11-25T22:31Z to open)",
    )
    assert hero(result).reason == "frequency_cap"  # the furthest any candidate got
    evening = decide(rs, ctx(local={"hour": 19}), profile, NOW, explain=True)
    assert hero(evening).trace[0] == "evening-free-shipping: audience failed at device.type"
    assert hero(evening).trace[-1] == "late: matched, variant on"
    assert hero(decide(rs, ctx(local={"hour": 19}), profile, NOW)).trace == ()


# -- robustness and caches ---------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "profile"),
    [
        (None, None),
        ([], "profile"),
        ({"id": ["x"], "consent": "yes"}, {"exposures": "many"}),
        ({"id": 7, "consent": {"personalization": 1}}, {"assignments": ["a"], "session": 3}),
        ({"id": "v", "page": {"query": None}}, {"exposures": {"hello": [1e300, "", -5]}}),
    ],
)
def test_odd_contexts_and_profiles_fall_back_instead_of_raising(context: Any, profile: Any) -> None:
    rs = ruleset(ab("split"), one("hello", content={"text": "{page.query.q|x}"}, consent="none"))
    result = decide(rs, context, profile, NOW)
    assert len(result.decisions) == 1
    assert hero(result).reason in {"matched", "consent", "frequency_cap"}


def test_wrong_argument_types_are_named() -> None:
    with pytest.raises(TypeError, match="Ruleset"):
        decide({"site": "x"}, {}, {}, NOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="datetime"):
        decide(ruleset(), {}, {}, "2026-01-01")  # type: ignore[arg-type]


def test_ruleset_is_prepared_once_and_results_are_the_callers_to_keep() -> None:
    rs = ruleset(ab("split"))
    assert prepare(rs) is prepare(rs)
    first = decide(rs, ctx(), {}, NOW)
    first.exposures.clear()
    first.assignments.clear()
    again = decide(rs, ctx(), {}, NOW)
    assert again.exposures and again.assignments
    assert again.to_dict() == decide(rs, ctx(), {}, NOW, explain=False).to_dict()


def test_cached_result_expires_at_schedule_and_cap_window_boundaries() -> None:
    # Given a campaign ending in ten minutes, and a capped one (1 a day) whose only
    # exposure leaves its 24 h window in five minutes
    end = NOW.timestamp() + 600
    capped = one("capped", priority=1, frequency=Frequency(max=1, per="day"))
    rs = ruleset(one("ends", priority=2, schedule=Schedule(end=end)), capped, one("fallback"))
    profile = _exposed("capped", timedelta(hours=23, minutes=55))

    def seen(rules: Ruleset, *seconds: int) -> list[str | None]:
        return [
            hero(decide(rules, ctx(), profile, NOW + timedelta(seconds=s))).experience
            for s in seconds
        ]

    # When the same page is decided again as time passes (cache hits while it holds)
    # Then each result changes exactly at its boundary
    assert seen(rs, 0, 599, 600) == ["ends", "ends", "capped"]
    assert seen(ruleset(capped, one("fallback")), 0, 299, 300) == ["fallback", "fallback", "capped"]


# -- audiences across page views ----------------------------------------------------


def test_page_audiences_are_evaluated_again_on_each_new_page() -> None:
    rs = ruleset(
        one("on-sale-page", audience={"page.path": "/sale", "device.type": "mobile"}, priority=2),
        one("mobile", audience={"device.type": "mobile"}, priority=1),
    )
    on_sale = ctx(page={"path": "/sale", "query": {}})
    elsewhere = ctx(page={"path": "/home", "query": {}})
    for _ in range(2):  # the second round may reuse what the first one memoized
        assert hero(decide(rs, on_sale, {}, NOW)).experience == "on-sale-page"
        assert hero(decide(rs, elsewhere, {}, NOW)).experience == "mobile"
    desktop = ctx(device={"type": "desktop"}, page={"path": "/other", "query": {}})
    assert hero(decide(rs, desktop, {}, NOW)).reason == "audience"


def test_a_journey_that_reads_the_clock_is_not_shared_across_pages() -> None:
    # The stage depends on local.hour, so audiences on the journey are volatile too.
    journey = (JourneyStage("night", {"local.hour": {"$gte": 22}}), JourneyStage("day", {}))
    rs = ruleset(
        one("night-owl", audience={"journey": "night"}, priority=1),
        one("fallback"),
        journey=journey,
    )
    late = ctx(local={"hour": 23}, page={"path": "/a", "query": {}})
    early = ctx(local={"hour": 9}, page={"path": "/b", "query": {}})
    assert hero(decide(rs, late, {}, NOW)).experience == "night-owl"
    assert hero(decide(rs, early, {}, NOW)).experience == "fallback"
    assert decide(rs, early, {}, NOW).journey == "day"
    assert hero(decide(rs, ctx(local={"hour": 22}), {}, NOW)).experience == "night-owl"
