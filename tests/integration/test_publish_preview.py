"""`perso deploy --preview` against moto: the artifact alone (no pointer, history, source or
pin), the URL from the site's allowed origins, progress as plain lines on stderr, and a
rollback that undoes the last deploy even after scheduled re-weightings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from edge.artifact import load
from infra.cli import main as perso
from infra.local.discovery import DevEndpoints, announce
from lambdas.dal import admin
from lambdas.dal.cdn import S3Cdn
from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.dal.store import Store
from lambdas.logic.publish import deploy_ruleset, preview_ruleset, publish_site, rollback_site
from lambdas.models.counters import Add
from tests.integration._learn_env import Learn, start_learn
from tests.integration.test_publish import NOW, SOURCE, _ruleset, _seed_counters

CHANGED = SOURCE.replace('"B"', '"B, previewed"')


@pytest.fixture
def learn(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Learn:
    return start_learn(moto_endpoint, monkeypatch)


@pytest.fixture
def local(learn: Learn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Learn]:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "state"))
    endpoints = DevEndpoints(
        url="http://127.0.0.1:1",
        endpoint_url=learn.endpoint,
        table=learn.table,
        bucket=learn.bucket,
    )
    with announce(endpoints):
        yield learn


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _keys(learn: Learn) -> list[str]:
    answer = learn.s3.list_objects_v2(Bucket=learn.bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def test_preview_uploads_the_artifact_alone_and_prints_the_sites_page(
    local: Learn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployed site whose config lists its origins
    assert perso(["deploy", _file(tmp_path, SOURCE), "--target", "local", "--yes"]) == 0
    store = Store(make_client(local.endpoint), local.table)
    admin.configure_site(store, "shop", origins=["https://shop.example", "https://b.example"])
    capsys.readouterr()
    before = {
        key: local.s3.get_object(Bucket=local.bucket, Key=key)["ETag"] for key in _keys(local)
    }
    # When a changed ruleset is previewed
    assert perso(["deploy", _file(tmp_path, CHANGED), "--preview", "--target", "local"]) == 0
    out, err = capsys.readouterr()
    # Then the diff and the URL of the site's first origin are printed
    assert '~ experience hero-test: content of b {"text": "B"}' in out
    sha = out.split("?perso_preview=", 1)[1].split()[0]
    assert f"see it in one browser tab: https://shop.example/?perso_preview={sha}" in out
    assert "end it with https://shop.example/?perso_preview=off (or close the tab)" in out
    # and only the artifact was written (progress as one plain line on stderr)
    after = _keys(local)
    assert set(after) - set(before) == {f"rulesets/shop/{sha}.msgpack"}
    for key, etag in before.items():
        assert local.s3.get_object(Bucket=local.bucket, Key=key)["ETag"] == etag, key
    assert err.splitlines() == [
        f"wrote artifact rulesets/shop/{sha}.msgpack ({_size(local, sha)} bytes)"
    ]
    data = local.s3.get_object(Bucket=local.bucket, Key=f"rulesets/shop/{sha}.msgpack")["Body"]
    content = load(data.read(), sha256=sha).experiences[0].variants[1].content
    assert content is not None and content["text"] == "B, previewed"


def _size(learn: Learn, sha: str) -> int:
    head = learn.s3.head_object(Bucket=learn.bucket, Key=f"rulesets/shop/{sha}.msgpack")
    return int(head["ContentLength"])


def test_preview_without_a_known_page_says_where_to_add_the_mark(
    local: Learn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a site with no config (so no origin) and nothing deployed yet
    assert perso(["deploy", _file(tmp_path, SOURCE), "--preview", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    # Then the JSON says so, and the pointer was never written
    assert answer["preview_url"] is None and answer["changed"] is True
    assert answer["changes"][0].startswith("+ site shop")
    assert "rulesets/shop/latest.json" not in _keys(local)
    assert perso(["deploy", _file(tmp_path, SOURCE), "--preview"]) == 0
    out = capsys.readouterr().out
    assert f"add ?perso_preview={answer['sha256']} to a page of shop" in out


def test_a_preview_of_bad_yaml_is_a_sentence(
    local: Learn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert perso(["deploy", _file(tmp_path, "site: shop\nslots: [\n"), "--preview"]) == 2
    err = capsys.readouterr().err
    assert "shop.yaml" in err and "Traceback" not in err
    assert _keys(local) == []


def test_preview_ruleset_keeps_learned_weights_and_leaves_the_pointer(learn: Learn) -> None:
    cdn = S3Cdn(learn.s3, learn.bucket)
    _seed_counters(learn)
    deploy_ruleset(_ruleset(), cdn=cdn, now=NOW, source=SOURCE)
    counters = DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)
    learned = publish_site("shop", cdn=cdn, counters=counters, now=NOW + timedelta(1))
    history = cdn.history("shop")
    # When previewing a text change
    preview = preview_ruleset(_ruleset(CHANGED), cdn=cdn)
    # Then the preview carries the live weights, and nothing live moved
    shown = load(cdn.get_artifact("shop", preview.sha256 or "") or b"")
    live = load(cdn.get_artifact("shop", learned.sha256 or "") or b"")
    assert shown.learned.weights == live.learned.weights and shown.learned.weights
    assert (cdn.get_pointer("shop") or {})["sha256"] == learned.sha256
    assert cdn.history("shop") == history and cdn.get_pin("shop") is None
    assert cdn.get_source("shop") == SOURCE
    # And previewing the live ruleset itself is not a change
    assert not preview_ruleset(_ruleset(), cdn=cdn).changed


def test_rollback_undoes_the_last_deploy_past_scheduled_reweightings(learn: Learn) -> None:
    # Given v1 deployed and re-weighted, then v2 deployed and re-weighted in turn
    cdn = S3Cdn(learn.s3, learn.bucket)
    counters = DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)
    deploy_ruleset(_ruleset(), cdn=cdn, now=NOW, source=SOURCE)
    _seed_counters(learn)
    v1_learned = publish_site("shop", cdn=cdn, counters=counters, now=NOW + timedelta(1))
    deploy_ruleset(_ruleset(CHANGED), cdn=cdn, now=NOW + timedelta(2), source=CHANGED)
    counters.add("shop", 0, [Add("I", "sku-3", {"item": "sku-3"}, {"views": 90.0})])
    v2_learned = publish_site("shop", cdn=cdn, counters=counters, now=NOW + timedelta(3))
    assert v2_learned.changed and v1_learned.changed
    # When rolling back without a version
    back = rollback_site("shop", cdn=cdn, now=NOW + timedelta(4))
    # Then the site is back where it was before v2's deploy, not on v2's older weights
    assert back.sha256 == v1_learned.sha256
    commands = [e["command"] for e in cdn.history("shop")]
    assert commands == ["deploy", "publish", "deploy", "publish", "rollback"]


def test_a_rollback_during_a_scheduled_publish_wins(learn: Learn) -> None:
    # Given v1 then v2 deployed, and counters a publish would learn from
    cdn = S3Cdn(learn.s3, learn.bucket)
    counters = DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)
    v1 = deploy_ruleset(_ruleset(), cdn=cdn, now=NOW, source=SOURCE)
    deploy_ruleset(_ruleset(CHANGED), cdn=cdn, now=NOW + timedelta(1), source=CHANGED)
    _seed_counters(learn)

    class RollbackMidway:
        """Rolls the site back (through another client) as the publish starts writing:
        the interleaving a scheduled publish and `perso rollback` can meet in production."""

        done = False

        def begin(self, kind: str, key: str, size: int) -> None:
            if kind == "artifact" and not self.done:
                self.done = True
                rollback_site("shop", cdn=S3Cdn(learn.s3, learn.bucket), now=NOW + timedelta(2))

        def end(self, kind: str, key: str) -> None:
            return None

    # When the scheduled publish writes while the rollback lands
    racing = S3Cdn(learn.s3, learn.bucket, watcher=RollbackMidway())
    result = publish_site("shop", cdn=racing, counters=counters, now=NOW + timedelta(3))
    # Then the rolled-back version is live, and the publish says why it is not
    assert (cdn.get_pointer("shop") or {})["sha256"] == v1.sha256
    assert not result.changed and "pinned" in result.reason
    assert cdn.history("shop")[-1]["command"] == "rollback"
