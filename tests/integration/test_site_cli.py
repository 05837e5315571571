"""`perso site add|show|set` against moto's table, through an announced `perso dev`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.cli import main as perso
from infra.local.discovery import DevEndpoints, announce
from lambdas.dal import admin
from lambdas.dal.client import make_client
from lambdas.dal.store import Store
from tests.integration._learn_env import Learn, start_learn


@pytest.fixture
def local(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Learn]:
    learn = start_learn(moto_endpoint, monkeypatch)
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "state"))
    endpoints = DevEndpoints(
        url="http://127.0.0.1:1",
        endpoint_url=learn.endpoint,
        table=learn.table,
        bucket=learn.bucket,
    )
    with announce(endpoints):
        yield learn


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    return dict(json.loads(capsys.readouterr().out))


def test_add_show_set_and_rotate(local: Learn, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(make_client(local.endpoint), local.table)
    # Given a new site with two origins
    args = ["--origin", "https://shop.example", "--origin", "http://localhost:8000"]
    assert perso(["site", "add", "shop", *args, "--json"]) == 0
    added = _json(capsys)
    key = str(added["new_api_key"])
    assert added["origins"] == ["https://shop.example", "http://localhost:8000"]
    assert added["retention_days"] == 395
    item = admin.read_site(store, "shop")
    assert item is not None
    assert item["api_key_sha256"] == hashlib.sha256(key.encode()).hexdigest()
    # When its retention changes and its key rotates
    assert perso(["site", "set", "shop", "--retention", "30", "--api-key-rotate", "--json"]) == 0
    changed = _json(capsys)
    assert changed["retention_days"] == 30 and changed["new_api_key"] != key
    assert changed["origins"] == added["origins"]  # untouched
    # Then show reads it back, never printing a key
    assert perso(["site", "show", "shop"]) == 0
    out = capsys.readouterr().out
    assert "https://shop.example, http://localhost:8000" in out and "retention 30 days" in out
    assert str(changed["new_api_key"]) not in out
    assert perso(["site", "set", "shop", "--origin", "https://new.example"]) == 0
    assert "origins https://new.example;" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["add", "shop"], "needs at least one --origin"),
        (["add", "shop", "--origin", "https://a.example/"], "is not scheme://host[:port]"),
        (["add", "Bad Site", "--origin", "https://a.example"], "is not a site id"),
        (["show", "nosuch"], "site 'nosuch' is not configured"),
        (["set", "nosuch", "--retention", "9"], "site 'nosuch' is not configured"),
        (["set", "shop"], "nothing to change"),
        (["set", "shop", "--retention", "0"], "must be between 1 and 3650"),
    ],
)
def test_mistakes_are_sentences(
    local: Learn, args: list[str], sentence: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert perso(["site", *args]) == 2
    err = capsys.readouterr().err
    assert sentence in err and "Traceback" not in err


def test_adding_twice_is_a_sentence(local: Learn, capsys: pytest.CaptureFixture[str]) -> None:
    assert perso(["site", "add", "shop", "--origin", "https://a.example"]) == 0
    assert perso(["site", "add", "shop", "--origin", "https://a.example"]) == 2
    assert "already exists" in capsys.readouterr().err
