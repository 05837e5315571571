"""The JSON Schema: generated from the model, valid 2020-12, accepts the example."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema  # installed with schemathesis (dev extra); used only in tests
import pytest
import yaml

from edge import model
from edge.compiler import json_schema
from edge.compiler.schema import FIELD_DOCS
from edge.model import CONTENT_KINDS, Ruleset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "demo-shop.yaml"
PUBLISHED = ROOT / "examples" / "ruleset.schema.json"
MODEL_CLASSES = [
    c for c in vars(model).values() if isinstance(c, type) and dataclasses.is_dataclass(c)
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(data)]


def test_it_is_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["site"]


def test_the_example_validates(validator: jsonschema.Draft202012Validator) -> None:
    assert errors(validator, yaml.safe_load(EXAMPLE.read_text())) == []


def test_every_model_field_is_described_and_present(schema: dict[str, Any]) -> None:
    hidden = {
        ("Slot", "id"),
        ("Ruleset", "learned"),
        ("Ruleset", "holdout_scope"),
        ("Factor", "id"),
    }
    for cls in MODEL_CLASSES:
        if cls.__name__ == "Learned":
            continue  # written by the publisher, never by authors
        target = schema if cls is Ruleset else schema["$defs"][cls.__name__]
        assert target["additionalProperties"] is False
        for field in dataclasses.fields(cls):
            assert (cls.__name__, field.name) in FIELD_DOCS, f"{cls.__name__}.{field.name}"
            if (cls.__name__, field.name) in hidden:
                assert field.name not in target["properties"]
            else:
                assert target["properties"][field.name]["description"]


def test_content_covers_every_kind(schema: dict[str, Any]) -> None:
    content = schema["$defs"]["content"]
    assert tuple(content["properties"]) == CONTENT_KINDS
    assert content["additionalProperties"] is False


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"site": "demo", "slotz": {}}, "'slotz' was unexpected"),
        ({"site": "Demo Shop"}, "does not match"),
        ({"site": "d", "holdout": 2}, "greater than the maximum"),
        ({"site": "d", "learned": {}}, "'learned' was unexpected"),
        (
            {
                "site": "d",
                "experiences": [
                    {"id": "x", "slot": "h", "variants": [{"id": "a"}], "consent": "maybe"}
                ],
            },
            "is not one of",
        ),
        (
            {
                "site": "d",
                "experiences": [
                    {"id": "x", "slot": "h", "variants": [{"id": "a", "content": {"banner": 1}}]}
                ],
            },
            "'banner' was unexpected",
        ),
        (
            {
                "site": "d",
                "experiences": [
                    {"id": "x", "slot": "h", "variants": [], "schedule": {"start": "soon"}}
                ],
            },
            "does not match",
        ),
    ],
)
def test_the_schema_rejects_what_the_compiler_rejects(
    validator: jsonschema.Draft202012Validator, data: dict[str, Any], needle: str
) -> None:
    found = errors(validator, data)
    assert any(needle in message for message in found), found


def test_the_published_schema_file_is_current(schema: dict[str, Any]) -> None:
    # examples/ruleset.schema.json is what editors load; `perso schema` regenerates it.
    assert json.loads(PUBLISHED.read_text()) == schema


def _with_audience(condition: dict[str, Any]) -> dict[str, Any]:
    experience = {"id": "x", "slot": "h", "variants": [{"id": "a"}], "audience": condition}
    return {"site": "d", "experiences": [experience]}


@pytest.mark.parametrize(
    "condition",
    [
        {"local.hour": {"$gtee": 18}},
        {"device.typ": "mobile"},
        {"device.type": "mobil"},
        {"language": "pt-BR"},
        {"local.hour": 25},
        {"channel": {"$in": ["email", "organic"]}},
        {"custom.plan": {"$eq2": 1}},
        {"$or": [{"geo.city": "Rio"}]},
    ],
)
def test_the_schema_knows_operators_and_attributes(
    validator: jsonschema.Draft202012Validator, condition: dict[str, Any]
) -> None:
    # An editor flags the operator typo, the unknown path and the impossible value.
    assert errors(validator, _with_audience(condition)) != []


@pytest.mark.parametrize(
    "condition",
    [
        {"device.type": {"$in": ["mobile", "tablet"]}, "local.hour": {"$gte": 18}},
        {"custom.plan": "pro", "custom.cart": {"sku": "a"}, "page.query.v": "b"},
        {"profile.first_name": "Ana", "languages.0": "pt-BR", "$segment": "s"},
    ],
)
def test_the_schema_accepts_what_can_match(
    validator: jsonschema.Draft202012Validator, condition: dict[str, Any]
) -> None:
    assert errors(validator, _with_audience(condition)) == []
