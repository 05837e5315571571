"""A multivariate experience's combinations through moto's real DynamoDB: exposures to
combination ids (level ids joined by ".") are counted by the aggregate Lambda from the
stream, stored under keys that also use "#", read back by the report's reader, and come out
per combination with the factors' effects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.local.loops import StreamPoller
from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.handlers import aggregate
from lambdas.logic.report import build_report
from tests.integration._learn_env import Learn, put_event, start_learn

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
COMBOS = ("default.default", "short.default", "default.bold", "short.bold")


@pytest.fixture
def learn(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Learn:
    return start_learn(moto_endpoint, monkeypatch)


def _artifact() -> dict[str, object]:
    factors = [
        {"id": "headline", "slot": "hero", "levels": [{"id": "default"}, {"id": "short"}]},
        {"id": "button", "slot": "cta", "levels": [{"id": "default"}, {"id": "bold"}]},
    ]
    experience = {
        "id": "home-mvt",
        "slot": "hero",
        "type": "multivariate",
        "goals": ["purchase"],
        "factors": factors,
        "variants": [{"id": c, "weight": 0.25, "content": None} for c in COMBOS],
    }
    return {"site": "shop", "holdout": 0.0, "experiences": [experience]}


def test_combinations_are_counted_and_reported_per_combination(learn: Learn) -> None:
    # Given 4 visitors per combination, each exposed twice; in every combination one
    # visitor buys, and in short.* a second one too
    n = 0
    expected = {}
    for combo in COMBOS:
        buyers = 2 if combo.startswith("short") else 1
        expected[combo] = buyers
        for index in range(4):
            visitor = f"{combo}-{index}"
            for _ in range(2):
                n += 1
                put_event(
                    learn, visitor=visitor, event_id=f"e{n}", kind="exposure",
                    exp="home-mvt", var=combo,
                )  # fmt: skip
            if index < buyers:
                n += 1
                put_event(
                    learn, visitor=visitor, event_id=f"e{n}", kind="conversion",
                    n="purchase", val=10,
                )  # fmt: skip
    # When the stream is read and the report reads the counters back
    poller = StreamPoller(learn.table, aggregate.handler, client=(learn.dynamodb, learn.streams))
    while poller.poll_once():
        pass
    counters = DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)
    rows = counters.variant_rows("shop", "home-mvt")
    report = build_report(_artifact(), rows, now=NOW, intervals="fixed_horizon")
    (experience,) = report.experiences
    # Then each combination has its own visitors, exposures and converting visitors
    by_id = {v.id: v for v in experience.variants}
    assert {c: (v.visitors, v.exposures) for c, v in by_id.items()} == dict.fromkeys(COMBOS, (4, 8))
    assert {c: v.goals["purchase"].conversions for c, v in by_id.items()} == expected
    # And the factors' effects are fitted on them (short: 4 of 8 against 2 of 8)
    assert experience.control == "default.default"
    assert experience.multivariate is not None
    effects = experience.multivariate.goals["purchase"]
    headline = effects.main_effects[0]
    assert headline.terms == (("headline", "short"),)
    assert (headline.visitors, headline.rate, headline.reference_rate) == (8, 0.5, 0.25)
    assert effects.note is None and headline.p_value is not None
