"""Publishing against moto's S3 and CloudFront: learned params, no-op, order, history,
rollback, invalidation, and the `perso deploy` / `perso rollback` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.artifact import load
from edge.compiler import compile_text
from infra.cli import main as perso
from infra.local.context import LocalContext
from infra.local.loops import PublishTimer, scheduled_event
from lambdas.dal.cdn import S3Cdn
from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.handlers import publish
from lambdas.logic.publish import PublishError, deploy_ruleset, publish_site, rollback_site
from lambdas.models.cdn import POINTER_CACHE
from lambdas.models.counters import Add
from tests.integration._learn_env import Learn, start_learn

SOURCE = """
site: shop
slots:
  hero: {selector: "#hero"}
experiences:
  - id: hero-test
    slot: hero
    allocation: bandit
    goals: [purchase]
    variants:
      - {id: a, weight: 0.5, content: {text: "A"}}
      - {id: b, weight: 0.5, content: {text: "B"}}
catalog:
  - {id: sku-1, title: One}
  - {id: sku-2, title: Two}
  - {id: sku-3, title: Three}
"""
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def endpoint(moto_endpoint: str) -> str:
    # the session's moto server from conftest.py; each test gets its own table and bucket
    return moto_endpoint


@pytest.fixture
def learn(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Learn:
    return start_learn(endpoint, monkeypatch)


def _cdn(learn: Learn) -> S3Cdn:
    return S3Cdn(
        learn.s3, learn.bucket, cloudfront=learn.cloudfront, distribution_id=learn.distribution
    )


def _counters(learn: Learn) -> DynamoCounters:
    return DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)


def _ruleset(text: str = SOURCE):
    result = compile_text(text)
    assert result.ruleset is not None, result.problems
    return result.ruleset


def _keys(learn: Learn) -> list[str]:
    answer = learn.s3.list_objects_v2(Bucket=learn.bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def _seed_counters(learn: Learn) -> None:
    counters = _counters(learn)
    day = "2026-11-20"
    # b converts three times as often as a; shards 0 and 1 are summed
    for shard, (exp_a, exp_b) in enumerate([(600, 600), (400, 400)]):
        counters.add(
            "shop",
            shard,
            [
                Add(
                    "X",
                    f"hero-test#a#{day}",
                    {"exp": "hero-test", "var": "a", "day": day},
                    {"visitors": exp_a, "exposures": exp_a * 2, "u:purchase": exp_a // 50},
                ),
                Add(
                    "X",
                    f"hero-test#b#{day}",
                    {"exp": "hero-test", "var": "b", "day": day},
                    {"visitors": exp_b, "exposures": exp_b * 2, "u:purchase": exp_b * 3 // 50},
                ),
                Add("I", "sku-2", {"item": "sku-2"}, {"views": 50.0}),
                Add("I", "sku-1", {"item": "sku-1"}, {"views": 20.0, "views@high_value": 9.0}),
                Add("I", "gone", {"item": "gone"}, {"views": 500.0}),  # not in the catalog
                Add("CV", "sku-1#sku-3", {"a": "sku-1", "b": "sku-3"}, {"n": 3.0}),
            ],
        )
    counters.add(
        "shop",
        0,
        [
            Add("H", f"value#{b}", {"f": "value", "bucket": str(b)}, {"n": 10.0})
            for b in range(10, 30)
        ],
    )


def test_scheduled_publish_learns_and_writes_in_order(learn: Learn) -> None:
    # Given a deployed source and counters
    cdn = _cdn(learn)
    cdn.put_source("shop", SOURCE)
    _seed_counters(learn)
    # When the publisher runs
    result = publish_site("shop", cdn=cdn, counters=_counters(learn), now=NOW)
    # Then the artifact holds the learned params
    assert result.changed and result.reason == "published"
    latest = json.loads(
        learn.s3.get_object(Bucket=learn.bucket, Key="rulesets/shop/latest.json")["Body"].read()
    )
    data = learn.s3.get_object(Bucket=learn.bucket, Key=latest["url"])["Body"].read()
    learned = load(data, sha256=latest["sha256"]).learned
    a, b = learned.weights["hero-test"]
    assert b > a >= 0.05 and a + b == pytest.approx(1.0)
    assert learned.recommendations["popular"] == ["sku-2", "sku-1"]
    assert learned.recommendations["popular:high_value"] == ["sku-1"]
    assert learned.co_viewed == {"sku-1": ["sku-3"], "sku-3": ["sku-1"]}  # both directions
    assert learned.segments["high_value"]["feature"] == "value"
    assert learned.segments["high_value"]["visitors"] == 200
    # And the segment rule reached the table for the aggregator
    assert _counters(learn).segment_rules("shop")["high_value"]["feature"] == "value"
    # And the writes came artifact first, pointer last, then one invalidation
    kinds = [kind for kind, _ in cdn.log]
    assert kinds == ["source", "artifact", "history", "pointer", "invalidation"]
    assert cdn.log[-1] == ("invalidation", "/rulesets/shop/latest.json")
    head = learn.s3.head_object(Bucket=learn.bucket, Key="rulesets/shop/latest.json")
    assert head["CacheControl"] == POINTER_CACHE
    art_head = learn.s3.head_object(Bucket=learn.bucket, Key=latest["url"])
    assert "immutable" in art_head["CacheControl"]
    # And CloudFront was asked to invalidate only the pointer path
    invalidations = learn.cloudfront.list_invalidations(DistributionId=learn.distribution)
    items = invalidations["InvalidationList"].get("Items", [])
    assert len(items) == 1
    detail = learn.cloudfront.get_invalidation(DistributionId=learn.distribution, Id=items[0]["Id"])
    paths = detail["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert paths == ["/rulesets/shop/latest.json"]


def test_nothing_written_when_nothing_changed(learn: Learn) -> None:
    cdn = _cdn(learn)
    cdn.put_source("shop", SOURCE)
    _seed_counters(learn)
    first = publish_site("shop", cdn=cdn, counters=_counters(learn), now=NOW)
    keys = _keys(learn)
    # When the schedule fires again with the same counters
    again = publish_site(
        "shop", cdn=cdn, counters=_counters(learn), now=NOW + timedelta(minutes=15)
    )
    # Then the same sha256 comes out and nothing is written
    assert (again.changed, again.reason, again.sha256) == (False, "unchanged", first.sha256)
    assert _keys(learn) == keys
    # But new counters do produce a new artifact and a second history entry
    _counters(learn).add("shop", 1, [Add("I", "sku-3", {"item": "sku-3"}, {"views": 999.0})])
    third = publish_site(
        "shop", cdn=cdn, counters=_counters(learn), now=NOW + timedelta(minutes=30)
    )
    assert third.changed and third.sha256 != first.sha256
    assert len(cdn.history("shop")) == 2


def test_handler_publishes_every_site_from_a_scheduled_event(learn: Learn) -> None:
    _cdn(learn).put_source("shop", SOURCE)
    timer = PublishTimer(publish.handler, interval=3600)
    answer = timer.fire_once()
    [site] = answer["published"]
    assert (site["site"], site["changed"], site["reason"]) == ("shop", True, "published")
    assert timer.fire_once()["published"][0]["reason"] == "unchanged"
    # A site listed in PERSO_SITES with neither source nor artifact is reported, not a crash
    publish.reset()
    import os

    os.environ["PERSO_SITES"] = "shop,empty"
    try:
        from lambdas.models.settings import reset_settings

        reset_settings()
        answer = publish.handler(scheduled_event(), LocalContext("perso-publish"))
    finally:
        del os.environ["PERSO_SITES"]
        reset_settings()
        publish.reset()
    reasons = {s["site"]: s["reason"] for s in answer["published"]}
    assert reasons == {"shop": "unchanged", "empty": "no deployed source or artifact"}


def test_deploy_keeps_learned_params_that_fit_and_rollback_walks_history(learn: Learn) -> None:
    cdn = _cdn(learn)
    _seed_counters(learn)
    v1 = deploy_ruleset(_ruleset(), cdn=cdn, now=NOW, source=SOURCE)
    learned = publish_site("shop", cdn=cdn, counters=_counters(learn), now=NOW + timedelta(1))
    # When a new source is deployed with a changed text but the same experiments
    v3 = deploy_ruleset(
        _ruleset(SOURCE.replace('"B"', '"B!"')),
        cdn=cdn,
        now=NOW + timedelta(2),
        source=SOURCE.replace('"B"', '"B!"'),
    )
    current = load(cdn.get_artifact("shop", v3.sha256 or "") or b"")
    # Then the bandit weights learned before are kept
    assert (
        current.learned.weights["hero-test"]
        == load(cdn.get_artifact("shop", learned.sha256 or "") or b"").learned.weights["hero-test"]
    )
    assert len(cdn.history("shop")) == 3
    # When rolling back without a version: the one before the current
    back = rollback_site("shop", cdn=cdn, now=NOW + timedelta(3))
    assert back.changed and back.sha256 == learned.sha256
    assert cdn.get_pointer("shop")["sha256"] == learned.sha256
    # When rolling back to an explicit version
    first = rollback_site("shop", cdn=cdn, now=NOW + timedelta(4), to=v1.version)
    assert cdn.get_pointer("shop")["sha256"] == v1.sha256 == first.sha256
    assert len(cdn.history("shop")) == 5
    # And an unknown version is a sentence naming what is known
    with pytest.raises(PublishError, match=r"version 'nope' is not in the history of 'shop'"):
        rollback_site("shop", cdn=cdn, now=NOW, to="nope")


def test_perso_deploy_and_rollback_commands(
    learn: Learn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "no-dev"))
    source = tmp_path / "shop.yaml"
    source.write_text(SOURCE, encoding="utf-8")
    target = [
        "--bucket",
        learn.bucket,
        "--distribution",
        learn.distribution,
        "--endpoint-url",
        learn.endpoint,
        "--region",
        "us-east-1",
        "--yes",
    ]
    assert perso(["deploy", str(source), *target]) == 0
    assert "published shop version" in capsys.readouterr().out
    assert perso(["deploy", str(source), *target]) == 0
    assert "unchanged" in capsys.readouterr().out
    source.write_text(SOURCE.replace('"A"', '"A2"'), encoding="utf-8")
    assert perso(["deploy", str(source), *target, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["changed"] is True
    assert perso(["rollback", "shop", *target]) == 0
    assert "rolled back shop to version" in capsys.readouterr().out
    assert _cdn(learn).get_pointer("shop")["sha256"] != second["sha256"]
    # Bad input: exit 2 with one sentence, no traceback
    assert perso(["rollback", "shop", "--to", "ffffff", *target]) == 2
    err = capsys.readouterr().err
    assert "version 'ffffff' is not in the history of 'shop'" in err and "Traceback" not in err
    assert perso(["rollback", "Bad Site", *target]) == 2
    assert "is not a site id" in capsys.readouterr().err
    assert perso(["deploy", str(tmp_path / "missing.yaml"), *target]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert perso(["deploy", str(source), "--yes"]) == 2
    assert "no running `perso dev` was found" in capsys.readouterr().err
    assert perso(["deploy", str(source), "--target", "aws", "--yes"]) == 2
    assert "--target aws needs --stack" in capsys.readouterr().err
    assert perso(["rollback", "nosuch", *target]) == 2
    assert "no published history" in capsys.readouterr().err
