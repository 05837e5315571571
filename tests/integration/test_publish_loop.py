"""The marketer's publish loop against moto: `--target local` (an announced `perso dev`),
diff, confirmation, history, a rollback the scheduled publisher leaves alone, pause and
resume, and AWS credential and region problems as one sentence each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.artifact import load
from edge.model import Ruleset
from infra.cli import deploy as deploy_cli
from infra.cli import main as perso
from infra.local.discovery import DevEndpoints, announce
from lambdas.dal.cdn import S3Cdn
from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.logic.publish import publish_site
from lambdas.models.counters import Add
from tests.integration._learn_env import Learn, start_learn
from tests.integration.test_publish import SOURCE

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OUT = "I"  # counters for an item: enough to change the learned recommendation lists


@pytest.fixture
def learn(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Learn:
    return start_learn(moto_endpoint, monkeypatch)


@pytest.fixture
def local(learn: Learn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Learn]:
    """A `perso dev` announced with the test's moto bucket, as `perso dev` announces itself."""
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "state"))
    endpoints = DevEndpoints(
        url="http://127.0.0.1:1",
        endpoint_url=learn.endpoint,
        table=learn.table,
        bucket=learn.bucket,
    )
    with announce(endpoints):
        yield learn


def _cdn(learn: Learn) -> S3Cdn:
    return S3Cdn(learn.s3, learn.bucket)


def _live(learn: Learn) -> str:
    pointer = _cdn(learn).get_pointer("shop")
    assert pointer is not None
    return str(pointer["sha256"])


def _file(tmp_path: Path, text: str = SOURCE) -> str:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _seed(learn: Learn) -> None:
    counters = DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)
    counters.add("shop", 0, [Add(OUT, "sku-3", {"item": "sku-3"}, {"views": 80.0})])


def test_local_target_diff_deploy_history_and_a_rollback_that_sticks(
    local: Learn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running `perso dev` and a first deploy with no other option than --target local
    file = _file(tmp_path)
    assert perso(["deploy", file, "--target", "local", "--yes"]) == 0
    assert "published shop version" in capsys.readouterr().out
    first = _live(local)
    # When the file changes: diff names the change and writes nothing
    changed = SOURCE.replace(
        'weight: 0.5, content: {text: "A"}', 'weight: 0.2, content: {text: "A2"}'
    )
    changed = changed.replace("{id: b, weight: 0.5", "{id: b, weight: 0.8")
    file = _file(tmp_path, changed)
    assert perso(["diff", file, "--target", "local"]) == 0
    out = capsys.readouterr().out
    assert "~ experience hero-test: weights [0.5, 0.5] -> [0.2, 0.8]" in out
    assert '~ experience hero-test: content of a {"text": "A"} -> {"text": "A2"}' in out
    assert _live(local) == first
    # Then deploy shows the same diff and publishes
    assert perso(["deploy", file, "--yes"]) == 0  # no AWS option: local
    out = capsys.readouterr().out
    assert "weights [0.5, 0.5] -> [0.2, 0.8]" in out and "published shop version" in out
    second = _live(local)
    assert second != first
    # History: newest first, the live one marked, with the command and who ran it
    assert perso(["history", "shop", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["versions"]
    assert [r["sha256"] for r in rows] == [second, first]
    assert [r["live"] for r in rows] == [True, False]
    assert {r["command"] for r in rows} == {"deploy"}
    assert all("(perso deploy)" in r["deployed_by"] for r in rows)
    # Rollback (default: the version before the live one)
    assert perso(["rollback", "shop", "--yes"]) == 0
    assert "rolled back shop to version" in capsys.readouterr().out
    assert _live(local) == first
    # When the scheduled publisher runs with counters that would change the artifact
    _seed(local)
    counters = DynamoCounters(make_client(local.endpoint), local.table, shards=2)
    result = publish_site("shop", cdn=_cdn(local), counters=counters, now=NOW + timedelta(1))
    # Then it publishes nothing: the pointer still names the rolled-back version
    assert not result.changed and "pinned" in result.reason
    assert _live(local) == first
    assert perso(["history", "shop"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("* ") and "rollback" in out and "pinned to" in out
    # And the next deploy clears the pin: the publisher learns again
    assert perso(["deploy", file, "--yes"]) == 0
    capsys.readouterr()
    assert _cdn(local).get_pin("shop") is None
    result = publish_site("shop", cdn=_cdn(local), counters=counters, now=NOW + timedelta(2))
    assert result.changed and result.reason == "published"
    # An unchanged ruleset says so and writes nothing
    before = len(_cdn(local).history("shop"))
    assert perso(["diff", file]) == 0
    assert "no changes" in capsys.readouterr().out
    assert perso(["deploy", file]) == 0
    assert "unchanged; nothing written" in capsys.readouterr().out
    assert len(_cdn(local).history("shop")) == before


def test_confirmation(
    local: Learn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file = _file(tmp_path)
    # Without a terminal and without --yes: a sentence, exit 2, nothing written
    assert perso(["deploy", file]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert _cdn(local).get_pointer("shop") is None
    # At a terminal, answering no: exit 1, nothing written
    monkeypatch.setattr(deploy_cli, "_interactive", lambda: True)
    monkeypatch.setattr(deploy_cli.typer, "confirm", lambda *a, **k: False)
    assert perso(["deploy", file]) == 1
    assert "+ site shop" in capsys.readouterr().out
    assert _cdn(local).get_pointer("shop") is None
    # Answering yes publishes
    monkeypatch.setattr(deploy_cli.typer, "confirm", lambda *a, **k: True)
    assert perso(["deploy", file]) == 0
    assert _cdn(local).get_pointer("shop") is not None


def test_pause_and_resume(local: Learn, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = _file(tmp_path)
    assert perso(["deploy", file, "--yes"]) == 0

    def experiences() -> list[str]:
        cdn = _cdn(local)
        data = cdn.get_artifact("shop", _live(local))
        assert data is not None
        return [e.id for e in load(data).experiences]

    assert experiences() == ["hero-test"]
    # When one experience is paused: the live artifact leaves it out at once
    assert perso(["pause", "shop", "hero-test", "--yes"]) == 0
    assert "paused hero-test on shop" in capsys.readouterr().out
    assert experiences() == []
    # Then neither the scheduled publisher nor a deploy brings it back
    counters = DynamoCounters(make_client(local.endpoint), local.table, shards=2)
    _seed(local)
    publish_site("shop", cdn=_cdn(local), counters=counters, now=NOW)
    assert experiences() == []
    assert perso(["deploy", _file(tmp_path, SOURCE.replace('"B"', '"B2"')), "--yes"]) == 0
    assert "paused, left out" in capsys.readouterr().out
    assert experiences() == []
    assert perso(["history", "shop", "--json"]) == 0
    commands = [r["command"] for r in json.loads(capsys.readouterr().out)["versions"]]
    assert "pause" in commands and "publish" in commands
    # Resume turns it back on
    assert perso(["resume", "shop", "hero-test", "--yes"]) == 0
    assert experiences() == ["hero-test"]
    capsys.readouterr()
    # Mistakes are sentences
    assert perso(["pause", "shop", "nope", "--yes"]) == 2
    assert "experience 'nope' is not in the live ruleset of 'shop'" in capsys.readouterr().err
    assert perso(["resume", "shop", "hero-test", "--yes"]) == 2
    assert "is not paused" in capsys.readouterr().err


def test_no_running_dev_is_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "nothing"))
    for args in (["diff", _file(tmp_path)], ["history", "shop"], ["rollback", "shop", "-y"]):
        assert perso([*args, "--target", "local"]) == 2
        err = capsys.readouterr().err
        assert "no running `perso dev` was found" in err and "Traceback" not in err


@pytest.fixture
def no_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment where boto3 finds no credentials and no region."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_region_is_a_sentence(
    no_aws: None, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--target", "aws", "--stack", "PersoStack", "--yes"]
    assert perso(["deploy", _file(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert "no AWS region is set: pass --region" in err and "NoRegionError" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--stack", "PersoStack", "--region", "us-east-1"],
        ["--bucket", "perso-cdn", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"],
    ],
)
def test_missing_credentials_are_a_sentence(
    no_aws: None, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert perso(["deploy", _file(tmp_path), "--target", "aws", "--yes", *args]) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials were found: run `aws configure`" in err
    assert "Traceback" not in err and "internal error" not in err
    assert perso(["history", "shop", "--target", "aws", *args]) == 2
    assert "no AWS credentials were found" in capsys.readouterr().err


def test_pause_and_resume_on_a_pinned_site_keep_the_rolled_back_ruleset(learn: Learn) -> None:
    from edge.compiler import compile_text
    from lambdas.logic.publish import deploy_ruleset, rollback_site, set_paused

    def ruleset(text: str) -> Ruleset:
        result = compile_text(text)
        assert result.ruleset is not None
        return result.ruleset

    cdn = _cdn(learn)
    counters = DynamoCounters(make_client(learn.endpoint), learn.table, shards=2)
    # Given v1, then v2, then a rollback to v1 (pinned)
    v1 = deploy_ruleset(ruleset(SOURCE), cdn=cdn, now=NOW, source=SOURCE)
    v2_text = SOURCE.replace('"A"', '"A2"')
    deploy_ruleset(ruleset(v2_text), cdn=cdn, now=NOW + timedelta(1), source=v2_text)
    rollback_site("shop", cdn=cdn, now=NOW + timedelta(2))
    assert _live(learn) == v1.sha256
    # When an experience is paused, the publisher runs, and it is resumed
    paused = set_paused("shop", "hero-test", paused=True, cdn=cdn, now=NOW + timedelta(3))
    assert paused.changed and _live(learn) != v1.sha256
    _seed(learn)
    assert not publish_site("shop", cdn=cdn, counters=counters, now=NOW + timedelta(4)).changed
    set_paused("shop", "hero-test", paused=False, cdn=cdn, now=NOW + timedelta(5))
    # Then the live artifact is the rolled-back v1 again, byte for byte, still pinned
    assert _live(learn) == v1.sha256
    assert cdn.get_pin("shop") is not None
