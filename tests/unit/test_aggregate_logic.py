"""Aggregation and learning logic alone (no database): parse, count, learn."""

from __future__ import annotations

import msgpack
import pytest

from edge.model import Experience, Ruleset, Variant
from lambdas.logic.aggregate import Event, aggregate, parse_event, shard_of
from lambdas.logic.publish import learn, merge_learned
from lambdas.logic.recommend import co_viewed, recommendation_lists, segment_thresholds
from lambdas.models.counters import Dims, Snapshot, bucket_floor, bucket_of
from tests._memory_store import MemorySink

IMAGE = {
    "pk": "V#shop#v1",
    "sk": "E#e1",
    "t": "page_view",
    "ts": 1795000000000,
    "pc": True,
    "d": msgpack.packb({"props": {"item": "sku-1"}, "id": "e1"}),
}


def test_parse_keeps_inserts_of_events_only() -> None:
    event = parse_event("INSERT", IMAGE)
    assert event is not None
    assert (event.site, event.owner, event.event_id, event.day) == (
        "shop", "V#shop#v1", "e1", "2026-11-18",
    )  # fmt: skip
    assert (event.viewed, event.personalization) == ("sku-1", True)
    assert parse_event("MODIFY", IMAGE) is None
    assert parse_event("INSERT", {**IMAGE, "sk": "P"}) is None
    assert parse_event("INSERT", {**IMAGE, "pk": "K#shop#X#0"}) is None


def test_damaged_payload_is_no_props_not_a_failure() -> None:
    event = parse_event("INSERT", {**IMAGE, "d": b"\xc1\xc1"})
    assert event is not None and event.viewed is None
    as_base64 = parse_event("INSERT", {**IMAGE, "d": "not base64!"})
    assert as_base64 is not None and as_base64.viewed is None


def test_conversion_defaults_to_purchase_and_reads_items() -> None:
    image = {**IMAGE, "t": "conversion", "val": 12.5,
             "d": msgpack.packb({"props": {"items": ["a", "b", "a"]}})}  # fmt: skip
    event = parse_event("INSERT", image)
    assert event is not None
    assert (event.name, event.value, event.purchased) == ("purchase", 12.5, ("a", "b"))


def test_memory_sink_counts_like_the_table() -> None:
    sink = MemorySink()
    day = "2026-11-22"
    for n in range(3):
        aggregate(
            Event("s", "V#s#v", f"x{n}", "exposure", day, "exp", "a", personalization=True), sink
        )
    aggregate(Event("s", "V#s#v", "c1", "conversion", day, name="purchase", value=10.0), sink)
    aggregate(Event("s", "V#s#v", "c2", "conversion", day, name="purchase", value=5.0), sink)
    counts = sink.snapshot("s").variants[("exp", "a")]
    assert counts == {
        "exposures": 3.0, "visitors": 1.0, "conversions": 2.0, "value": 15.0,
        "c:purchase": 2.0, "v:purchase": 15.0, "u:purchase": 1.0,
        "q:purchase": 225.0,  # one visitor worth 10 + 5: (10 + 5)^2
    }  # fmt: skip


def test_shards_are_stable_and_spread() -> None:
    assert shard_of("event-1", 4) == shard_of("event-1", 4)
    assert len({shard_of(f"e{i}", 4) for i in range(100)}) == 4


def test_buckets_and_thresholds() -> None:
    assert bucket_of("value", 0) is None
    assert bucket_floor("value", bucket_of("value", 1000.0) or 0) <= 1000.0
    snap = Snapshot(histograms={"purchases": {1: 80.0, 2: 10.0, 5: 10.0}})
    rules = segment_thresholds(snap)
    assert rules == {
        "frequent_buyer": {"feature": "purchases", "min": 5.0, "quantile": 0.9, "visitors": 100}
    }
    assert segment_thresholds(Snapshot(histograms={"purchases": {1: 19.0}})) == {}


def test_lists_are_deterministic_and_catalog_bound() -> None:
    snap = Snapshot(
        items={"a": {"views": 5.0}, "b": {"views": 5.0}, "z": {"views": 99.0},
               "c": {"views": 1.0, "purchases": 1.0}},
        co_views={"a": {"b": 3.0, "c": 1.0}, "b": {"a": 3.0}},
    )  # fmt: skip
    assert recommendation_lists(snap, catalog=["a", "b", "c"])["popular"] == ["c", "a", "b"]
    assert co_viewed(snap) == {"a": ["b"], "b": ["a"]}


def test_learn_leaves_young_bandits_alone_and_merge_drops_misfits() -> None:
    ruleset = Ruleset(
        site="s",
        experiences=(
            Experience("x", "slot", (Variant("a", 0.5), Variant("b", 0.5)), allocation="bandit",
                       goals=("purchase",)),
        ),
    )  # fmt: skip
    young = Snapshot(variants={("x", "a"): {"visitors": 99.0}, ("x", "b"): {"visitors": 500.0}})
    assert learn(ruleset, young).weights == {}
    grown = Snapshot(
        variants={
            ("x", "a"): {"visitors": 500.0, "u:purchase": 10.0},
            ("x", "b"): {"visitors": 500.0, "u:purchase": 60.0},
        }
    )
    learned = learn(ruleset, grown)
    assert learned.weights["x"][1] > 0.9 and learned == learn(ruleset, grown)
    three = Ruleset(site="s", experiences=(Experience(
        "x", "slot", (Variant("a", 0.3), Variant("b", 0.3), Variant("c", 0.4)),
        allocation="bandit"),))  # fmt: skip
    assert merge_learned(three, learned).weights == {}
    assert merge_learned(ruleset, learned).weights == learned.weights


@pytest.mark.parametrize("value", [-5, 0])
def test_non_positive_features_are_not_histogrammed(value: float) -> None:
    assert bucket_of("visits", value) is None


# --- what the report reads -------------------------------------------------------------------


def _x(sink: MemorySink) -> dict[tuple[str, str, str], dict[str, float]]:
    """Experience rows by (experience, variant, breakdown key), summed over days and shards."""
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in sink.variant_rows("s"):
        key = (row.labels["exp"], row.labels["var"], Dims.from_labels(row.labels).key)
        cell = out.setdefault(key, {})
        for name, delta in row.deltas.items():
            cell[name] = cell.get(name, 0.0) + delta
    return out


def _image(event_id: str, kind: str, props: dict[str, object], **attrs: object) -> dict:
    return {**IMAGE, "pk": "V#s#v", "sk": f"E#{event_id}", "t": kind, **attrs,
            "d": msgpack.packb({"props": props, "id": event_id})}  # fmt: skip


def test_breakdown_comes_from_the_first_exposure_and_follows_the_visitor() -> None:
    # Given a first exposure on mobile at the cart stage, a later one on desktop
    sink = MemorySink()
    props = {"view": "v", "device": "mobile", "journey": "cart", "returning": False}
    first = parse_event("INSERT", _image("e1", "exposure", props, exp="x", var="a"))
    later = parse_event(
        "INSERT", _image("e2", "exposure", {**props, "device": "desktop"}, exp="x", var="a")
    )
    buy = parse_event("INSERT", _image("e3", "conversion", {}, n="buy", val=20))
    assert first is not None and later is not None and buy is not None
    for event in (first, later, buy):
        aggregate(event, sink)
    # Then every row of that visitor lands in the cell of the first exposure
    cells = _x(sink)
    assert cells[("x", "a", "mobile#cart#new")] == {
        "visitors": 1.0, "exposures": 2.0, "conversions": 1.0, "value": 20.0,
        "c:buy": 1.0, "v:buy": 20.0, "u:buy": 1.0, "q:buy": 400.0,
    }  # fmt: skip
    # And an exposure without those props is "unknown", kept under the short key
    bare = Event("s", "V#s#w", "e4", "exposure", "2026-11-22", "x", "a")
    assert aggregate(bare, sink)[0].key == "x#a#2026-11-22"


def test_sum_of_squares_is_over_visitor_totals_and_survives_redelivery() -> None:
    # Given one visitor buying 10, then 5, then the 5 redelivered (same event id)
    sink = MemorySink()
    aggregate(Event("s", "V#s#v", "x1", "exposure", "2026-11-22", "x", "a"), sink)
    for event_id, value in (("c1", 10.0), ("c2", 5.0), ("c2", 5.0)):
        aggregate(Event("s", "V#s#v", event_id, "conversion", "2026-11-22", name="buy",
                        value=value), sink)  # fmt: skip
    cell = _x(sink)[("x", "a", "unknown#unknown#unknown")]
    # Then u counts the visitor once; q moved by 10^2 and (15^2 - 10^2) each time the 5 came
    # (a redelivered record re-adds its plain counters: the documented at-least-once limit)
    assert cell["u:buy"] == 1.0
    assert cell["q:buy"] == 100.0 + 2 * 125.0
    assert sink.markers[("V#s#v", "MC#x#buy")]["tot"] == 15.0  # the total itself is exact


def test_personalized_visitors_count_once_and_holdout_visitors_never() -> None:
    sink = MemorySink()
    day = "2026-11-22"
    for n, (experience, variant) in enumerate([("x", "a"), ("y", "b"), ("x", "a")]):
        aggregate(Event("s", "V#s#v", f"e{n}", "exposure", day, experience, variant), sink)
    aggregate(Event("s", "V#s#h", "h1", "exposure", day, "__holdout__", "holdout"), sink)
    aggregate(Event("s", "V#s#h", "h2", "exposure", day, "__holdout__", "holdout"), sink)
    aggregate(Event("s", "V#s#h", "h3", "conversion", day, name="buy", value=3.0), sink)
    aggregate(Event("s", "V#s#v", "c1", "conversion", day, name="buy", value=7.0), sink)
    cells = _x(sink)
    unknown = "unknown#unknown#unknown"
    shown = cells[("__personalized__", "personalized", unknown)]
    held = cells[("__holdout__", "holdout", unknown)]
    assert (shown["visitors"], shown["u:buy"], shown["v:buy"]) == (1.0, 1.0, 7.0)
    assert (held["visitors"], held["exposures"], held["u:buy"]) == (1.0, 2.0, 1.0)


def test_clicks_count_per_click_and_clickers_once() -> None:
    sink = MemorySink()
    day = "2026-11-22"
    aggregate(Event("s", "V#s#v", "e1", "exposure", day, "x", "a"), sink)
    for n in range(3):
        aggregate(Event("s", "V#s#v", f"k{n}", "click", day, "x", "a", name="cta"), sink)
    # a click that names its experience in props only
    image = _image("k9", "click", {"experience": "x", "variant": "a"})
    click = parse_event("INSERT", image)
    assert click is not None and click.experience == "x"
    aggregate(click, sink)
    cell = _x(sink)[("x", "a", "unknown#unknown#unknown")]
    assert (cell["clicks"], cell["clickers"]) == (4.0, 1.0)
