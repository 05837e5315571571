"""The artifact: deterministic msgpack, content-addressed, checked when loaded."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import msgpack
import pytest

from edge.artifact import Artifact, ArtifactError, encode, load, pointer
from edge.compiler import compile_file
from edge.model import SCHEMA_VERSION, Learned, Ruleset

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-shop.yaml"
ARTIFACT_BUDGET = 10 * 1024  # DESIGN §10: demo artifact <= 10 KB


@pytest.fixture(scope="module")
def demo() -> Ruleset:
    result = compile_file(EXAMPLE)
    assert result.ruleset is not None, [str(p) for p in result.problems]
    return result.ruleset


def test_round_trip_gives_the_same_ruleset(demo: Ruleset) -> None:
    artifact = encode(demo)
    assert load(artifact.data, sha256=artifact.sha256) == demo


def test_round_trip_keeps_learned_parameters(demo: Ruleset) -> None:
    learned = Learned(
        weights={"evening-free-shipping": [0.7, 0.3]},
        recommendations={"popular": ["tee-01", "cap-01"]},
        co_viewed={"tee-01": ["cap-01"]},
        segments={"big-spender": {"threshold": 500}},
    )
    ruleset = replace(demo, learned=learned)
    assert load(encode(ruleset).data).learned == learned


def test_encoding_is_deterministic_whatever_the_dict_order(demo: Ruleset) -> None:
    shuffled = replace(
        demo,
        slots=dict(reversed(list(demo.slots.items()))),
        catalog={k: dict(reversed(list(v.items()))) for k, v in reversed(demo.catalog.items())},
    )
    first, second = encode(demo), encode(shuffled)
    assert first.data == second.data
    assert first.sha256 == second.sha256 == hashlib.sha256(first.data).hexdigest()
    assert first.version == first.sha256[:16]


def test_a_change_changes_the_hash(demo: Ruleset) -> None:
    assert encode(demo).sha256 != encode(replace(demo, holdout=0.06)).sha256


def test_the_artifact_holds_schema_1_and_sorted_keys(demo: Ruleset) -> None:
    payload = msgpack.unpackb(encode(demo).data, raw=False)
    assert payload["schema"] == SCHEMA_VERSION == 1
    assert list(payload) == sorted(payload)
    assert list(payload["experiences"][0]) == sorted(payload["experiences"][0])


def test_the_demo_artifact_fits_the_budget(demo: Ruleset) -> None:
    size = len(encode(demo).data)
    print(f"\ndemo-shop artifact: {size} bytes (budget {ARTIFACT_BUDGET})")
    assert size <= ARTIFACT_BUDGET


def test_hash_mismatch_names_both_hashes(demo: Ruleset) -> None:
    artifact = encode(demo)
    wrong = "0" * 64
    with pytest.raises(ArtifactError) as caught:
        load(artifact.data, sha256=wrong)
    assert str(caught.value) == (
        f"artifact hash mismatch: expected sha256 {wrong}, got {artifact.sha256}."
    )


def test_a_tampered_artifact_fails_its_hash(demo: Ruleset) -> None:
    artifact = encode(demo)
    tampered = artifact.data.replace(b"demo-shop", b"evil-shop")
    with pytest.raises(ArtifactError, match="hash mismatch"):
        load(tampered, sha256=artifact.sha256)


def test_a_newer_schema_is_refused() -> None:
    data = msgpack.packb({"schema": 2, "site": "demo"})
    with pytest.raises(ArtifactError) as caught:
        load(data)
    assert str(caught.value) == "artifact schema 2 is newer than this runtime understands (1)."


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xc1\xc1\xc1", "not readable msgpack"),
        (b"", "not readable msgpack"),
        (b'{"site": 1}', "not readable msgpack"),
        (msgpack.packb([1, 2]), "must be a msgpack map, not a list"),
        (msgpack.packb({"site": "demo"}), "missing the field 'schema'"),
        (msgpack.packb({"schema": 1}), "missing the field 'site'"),
        (msgpack.packb({"schema": "1", "site": "x"}), "schema '1' is not a version number"),
        (
            msgpack.packb({"schema": 1, "site": "x", "experiences": [{"id": "e"}]}),
            "missing the field 'slot'",
        ),
        (
            msgpack.packb({"schema": 1, "site": "x", "holdout": "lots"}),
            "field of the wrong shape",
        ),
    ],
)
def test_bad_artifacts_raise_one_sentence(data: bytes, needle: str) -> None:
    with pytest.raises(ArtifactError) as caught:
        load(data)
    assert needle in str(caught.value)
    assert str(caught.value).endswith(".")


def test_pointer_is_latest_json() -> None:
    artifact = Artifact(b"x", "ab" * 32, "ab" * 8)
    moment = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert pointer(artifact, site="demo-shop", published_at=moment) == {
        "version": "abababababababab",
        "url": f"rulesets/demo-shop/{'ab' * 32}.msgpack",
        "sha256": "ab" * 32,
        "published_at": "2026-11-25T03:00:00Z",
    }
    absolute = pointer(artifact, site="s", base_url="https://cdn.example/", published_at="t")
    assert absolute["url"] == f"https://cdn.example/rulesets/s/{'ab' * 32}.msgpack"
