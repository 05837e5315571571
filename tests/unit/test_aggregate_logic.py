"""Aggregation and learning logic alone (no database): parse, count, learn."""

from __future__ import annotations

import msgpack
import pytest

from edge.model import Experience, Ruleset, Variant
from lambdas.logic.aggregate import Event, aggregate, parse_event, shard_of
from lambdas.logic.publish import learn, merge_learned
from lambdas.logic.recommend import co_viewed, recommendation_lists, segment_thresholds
from lambdas.models.counters import Snapshot, bucket_floor, bucket_of
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
