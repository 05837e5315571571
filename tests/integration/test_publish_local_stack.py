"""On `perso dev`'s own local stack (in-process): deploy with `--target local` and nothing
else, roll back, then let the scheduled publisher's handler run: the rollback sticks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.cli import main as perso
from infra.local.context import LocalContext
from infra.local.discovery import DevEndpoints, announce
from infra.local.loops import scheduled_event
from infra.local.stack import LocalBackend
from lambdas.dal.cdn import S3Cdn
from lambdas.handlers import publish

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def announced(
    backend: LocalBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalBackend]:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "state"))
    endpoints = DevEndpoints(
        "http://127.0.0.1:1", backend.endpoint_url, backend.table, backend.bucket
    )
    with announce(endpoints):
        yield backend


def test_rollback_survives_the_scheduled_publisher(
    announced: LocalBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdn = S3Cdn(announced.client("s3"), announced.bucket)

    def live() -> str:
        pointer = cdn.get_pointer("demo-shop")
        assert pointer is not None
        return str(pointer["sha256"])

    # Given the demo deployed, then a changed ruleset deployed over it
    demo = ROOT / "examples" / "demo-shop.yaml"
    source = demo.read_text(encoding="utf-8")
    assert perso(["deploy", str(demo), "--target", "local", "--yes"]) == 0
    before = live()
    changed = tmp_path / "demo-shop.yaml"
    changed.write_text(source.replace("30% off everything", "40% off everything"), "utf-8")
    assert perso(["deploy", str(changed), "--target", "local", "--yes"]) == 0
    assert "40% off everything" in capsys.readouterr().out  # the diff named the content
    assert live() != before
    # When it is rolled back and the scheduled publisher runs
    assert perso(["rollback", "demo-shop", "--target", "local", "--yes"]) == 0
    capsys.readouterr()
    assert live() == before
    publish.reset()
    answer = publish.handler(scheduled_event(), LocalContext("perso-publish"))
    publish.reset()
    # Then the pointer still names the rolled-back version
    reasons = {r["site"]: r["reason"] for r in answer["published"]}
    assert reasons["demo-shop"].startswith("pinned to")
    assert live() == before
