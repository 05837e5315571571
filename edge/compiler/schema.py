"""The JSON Schema (draft 2020-12) of the ruleset YAML, generated from `edge.model`.

Each model dataclass becomes an object schema: its fields (names, types, which are
required) come from `dataclasses.fields` and the type hints, its description from the
docstring. What a field means to an author is in `FIELD_DOCS`; where the YAML differs
from the model (schedule times are strings, slots are a map that may be a bare
selector, the catalog is a list, content and conditions have their own shapes), a small
override table says so. Editors (VS Code's YAML extension, JetBrains) use it to
validate and complete rulesets as they are typed: `perso schema > ruleset.schema.json`.

>>> schema = json_schema()
>>> schema["$defs"]["Experience"]["required"], schema["$defs"]["Experience"]["else"]
(['id'], {'required': ['slot', 'variants']})
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from edge import model
from edge.compiler._condition_schema import condition_defs
from edge.limits import MAX_COMBINATIONS, MAX_EXPERIENCES, MAX_SLOTS, MAX_VARIANTS
from edge.model import (
    ALLOCATIONS,
    CONSENT_PURPOSES,
    CONTENT_KINDS,
    EXPERIENCE_TYPES,
    FREQUENCY_PERIODS,
    HOLDOUT_SCOPES,
    OBJECTIVE_PERIODS,
    Experience,
    Factor,
    Frequency,
    JourneyStage,
    Level,
    Objective,
    Policy,
    Ruleset,
    Schedule,
    Slot,
    Variant,
)

__all__ = ["FIELD_DOCS", "SCHEMA_ID", "YAML_ONLY_FIELDS", "json_schema"]

SCHEMA_ID = "https://perso.dev/schema/ruleset-1.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Fields the model has but YAML must not set: Slot.id is the key of the slots map,
# Ruleset.learned is written by the publisher from events.
# Ruleset.holdout_scope is written as holdout: {share, scope}.
# Factor.id is the key of an experience's factors map.
_HIDDEN = {
    ("Slot", "id"),
    ("Ruleset", "learned"),
    ("Ruleset", "holdout_scope"),
    ("Factor", "id"),
}

FIELD_DOCS: dict[tuple[str, str], str] = {
    ("Ruleset", "site"): "The site's name, [a-z0-9-]+; the CDN path prefix (rulesets/<site>/).",
    ("Ruleset", "timezone"): "IANA time zone for schedule times written without an offset.",
    ("Ruleset", "holdout"): (
        "Share of visitors (0 to 1) held out to measure total lift, or {share, scope}: "
        "scope consent (default) withholds what consent adds, all withholds everything."
    ),
    ("Ruleset", "holdout_scope"): "Written as holdout: {share, scope}.",
    ("Ruleset", "guardrails"): "Goal names whose rise is bad (unsubscribe, refund): flagged.",
    ("Ruleset", "objective"): "A site-level goal: incremental value against the holdout.",
    ("Objective", "goal"): "The goal whose value counts (e.g. purchase).",
    ("Objective", "target"): "Incremental value to reach per period (personalized vs holdout).",
    ("Objective", "per"): "The period of the target.",
    ("Ruleset", "policy"): "Limits per page and per session.",
    ("Ruleset", "journey"): "Ordered journey stages; the first whose `when` matches wins.",
    ("Ruleset", "segments"): "Named conditions; use {$segment: NAME} anywhere in a condition.",
    ("Ruleset", "slots"): "Places on the page, by id: a CSS selector, or {selector, ...}.",
    ("Ruleset", "experiences"): "What to show where; they compete per slot by priority.",
    ("Ruleset", "catalog"): "Items that recommend content can show (id, title, url, ...).",
    ("Ruleset", "learned"): "Written by the publisher from events; not allowed in YAML.",
    ("Policy", "max_experiences_per_page"): "At most this many experiences on one page view.",
    ("Policy", "max_exposures_per_session"): "At most this many exposures in one session.",
    ("JourneyStage", "stage"): "The stage's name, seen by rules as the `journey` attribute.",
    ("JourneyStage", "when"): "Condition over the context (usually profile.*); {} always matches.",
    ("Slot", "id"): "The slot's id (the key in the slots map).",
    ("Slot", "selector"): "CSS selector of the element the slot changes.",
    ("Slot", "hide_until_decided"): "Hide the element until decided (at most the hide timeout).",
    ("Experience", "id"): "Unique id; also the bucketing seed and the name in reports.",
    ("Experience", "slot"): "The slot this experience fills (a key of slots).",
    ("Experience", "variants"): "The arms; weights default to an equal share of what is left.",
    ("Experience", "priority"): "Higher is tried first within a slot; ties keep file order.",
    ("Experience", "audience"): "Condition the visitor's context must match; {} matches all.",
    ("Experience", "schedule"): "When it runs: start/end as local ISO times or with an offset.",
    ("Experience", "frequency"): "At most `max` exposures per visitor per `per`.",
    ("Experience", "consent"): "Consent purpose that must be granted; none = context only.",
    ("Experience", "allocation"): "fixed weights, or bandit: the publisher re-weights variants.",
    ("Experience", "goals"): "Event names counted as conversions in reports.",
    ("Experience", "coverage"): "Share (0 to 1) of the matching audience that takes part.",
    ("Experience", "type"): "ab (variants on one slot) or multivariate (factors on several).",
    ("Experience", "factors"): (
        "multivariate: factor name -> {slot, levels}; each factor on its own slot; "
        "the combinations of levels are the variants."
    ),
    ("Factor", "id"): "The factor's name (the key in the factors map).",
    ("Factor", "slot"): "The slot this factor changes (a key of slots, one per factor).",
    ("Factor", "levels"): "At least two; the first is the reference (usually the default).",
    ("Level", "id"): "Unique within the factor; letters, digits, _ and - (no '.').",
    ("Level", "content"): "What the slot shows at this level; leave it out for the default.",
    ("Variant", "id"): "Unique within the experience.",
    ("Variant", "weight"): "Share of traffic, 0 to 1; omitted weights split what is left.",
    ("Variant", "content"): "What the slot shows; leave it out for the page's default.",
    ("Schedule", "start"): "Start, e.g. 2026-11-25T00:00 (local) or 2026-11-25T03:00Z.",
    ("Schedule", "end"): "End (exclusive), after start.",
    ("Frequency", "max"): "Exposures allowed per period.",
    ("Frequency", "per"): "The period the cap counts over.",
}

# YAML-only fields that the compiler folds into the model (schedule's own zone).
YAML_ONLY_FIELDS: dict[str, dict[str, Any]] = {
    "Experience": {
        "design": {
            "description": (
                f"multivariate: full (every combination, at most {MAX_COMBINATIONS}) or "
                "{fractional: {resolution: III|IV|V}}: a two-level 2^(k-p) fraction."
            ),
            "oneOf": [
                {"const": "full"},
                {
                    "type": "object",
                    "properties": {
                        "fractional": {
                            "type": "object",
                            "properties": {"resolution": {"enum": ["III", "IV", "V", 3, 4, 5]}},
                            "required": ["resolution"],
                            "additionalProperties": False,
                        }
                    },
                    "required": ["fractional"],
                    "additionalProperties": False,
                },
            ],
        }
    },
    "Schedule": {
        "timezone": {
            "type": "string",
            "description": "IANA time zone for this schedule (default: the ruleset's).",
        }
    },
}

_CONDITION = {"$ref": "#/$defs/condition"}
_FRACTION = {"type": "number", "minimum": 0, "maximum": 1}
_TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$",
}

_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("Ruleset", "site"): {"type": "string", "pattern": "^[a-z0-9-]+$"},
    ("Ruleset", "timezone"): {"type": "string", "examples": ["UTC", "America/Sao_Paulo"]},
    # A number, or {share, scope}: numeric keywords apply to numbers only, object ones
    # to objects only, so one schema says both (and `holdout: 2` reads "greater than").
    ("Ruleset", "holdout"): {
        "type": ["number", "object"],
        "minimum": 0,
        "maximum": 1,
        "properties": {"share": _FRACTION, "scope": {"enum": list(HOLDOUT_SCOPES)}},
        "required": ["share"],
        "additionalProperties": False,
    },
    ("Ruleset", "guardrails"): {"type": "array", "items": {"type": "string", "minLength": 1}},
    ("Objective", "target"): {"type": "number", "exclusiveMinimum": 0},
    ("Objective", "per"): {"enum": list(OBJECTIVE_PERIODS)},
    ("Ruleset", "segments"): {"type": "object", "additionalProperties": _CONDITION},
    ("Ruleset", "slots"): {
        "type": "object",
        "maxProperties": MAX_SLOTS,
        "additionalProperties": {
            "oneOf": [
                {"type": "string", "description": "Shorthand: the CSS selector."},
                {"$ref": "#/$defs/Slot"},
            ]
        },
    },
    ("Ruleset", "experiences"): {
        "type": "array",
        "maxItems": MAX_EXPERIENCES,
        "items": {"$ref": "#/$defs/Experience"},
    },
    ("Ruleset", "catalog"): {"type": "array", "items": {"$ref": "#/$defs/catalog_item"}},
    ("Policy", "max_experiences_per_page"): {"type": ["integer", "null"], "minimum": 1},
    ("Policy", "max_exposures_per_session"): {"type": ["integer", "null"], "minimum": 1},
    ("JourneyStage", "when"): _CONDITION,
    ("Experience", "audience"): _CONDITION,
    ("Experience", "consent"): {"enum": list(CONSENT_PURPOSES)},
    ("Experience", "allocation"): {"enum": list(ALLOCATIONS)},
    ("Experience", "coverage"): _FRACTION,
    ("Experience", "goals"): {"type": "array", "items": {"type": "string", "minLength": 1}},
    ("Experience", "variants"): {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_VARIANTS,
        "items": {"$ref": "#/$defs/Variant"},
    },
    ("Experience", "type"): {"enum": list(EXPERIENCE_TYPES)},
    ("Experience", "factors"): {
        "type": "object",
        "minProperties": 2,
        "additionalProperties": {"$ref": "#/$defs/Factor"},
    },
    ("Factor", "levels"): {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Level"}},
    ("Level", "id"): {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
    ("Level", "content"): {"$ref": "#/$defs/content"},
    ("Variant", "weight"): _FRACTION,
    ("Variant", "content"): {"$ref": "#/$defs/content"},
    ("Schedule", "start"): _TIME,
    ("Schedule", "end"): _TIME,
    ("Frequency", "max"): {"type": "integer", "minimum": 1},
    ("Frequency", "per"): {"enum": list(FREQUENCY_PERIODS)},
}

# Fields the YAML may leave out although the model has no default (the compiler fills them).
_OPTIONAL_IN_YAML = {("Variant", "weight")}

_SCALARS: dict[Any, str] = {int: "integer", float: "number", str: "string", bool: "boolean"}
_MODEL_CLASSES = (
    Ruleset, Policy, JourneyStage, Slot, Experience, Factor, Level, Variant, Schedule,
    Frequency, Objective,
)  # fmt: skip
# A multivariate experience has factors instead of a slot and variants.
_BY_TYPE = {
    "if": {"properties": {"type": {"const": "multivariate"}}, "required": ["type"]},
    "then": {"required": ["factors"]},
    "else": {"required": ["slot", "variants"]},
}


def _type_schema(hint: Any) -> dict[str, Any]:
    """A JSON Schema for a type hint made of scalars, dataclasses, tuples, dicts."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {"$ref": f"#/$defs/{hint.__name__}"}
    if origin in (types.UnionType, typing.Union):
        options = [_type_schema(a) for a in args if a is not type(None)]
        nullable = type(None) in args
        if len(options) == 1 and "type" in options[0] and nullable:
            return {**options[0], "type": [options[0]["type"], "null"]}
        return {"anyOf": [*options, {"type": "null"}] if nullable else options}
    if origin in (tuple, list):
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1])}
    return {}


def _object_schema(cls: type) -> dict[str, Any]:
    name = cls.__name__
    hints = typing.get_type_hints(cls, vars(model))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in dataclasses.fields(cls):
        if (name, field.name) in _HIDDEN:
            continue
        schema = dict(_OVERRIDES.get((name, field.name)) or _type_schema(hints[field.name]))
        schema["description"] = FIELD_DOCS[(name, field.name)]
        properties[field.name] = schema
        no_default = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        if no_default and (name, field.name) not in _OPTIONAL_IN_YAML:
            required.append(field.name)
    properties.update(YAML_ONLY_FIELDS.get(name, {}))
    out: dict[str, Any] = {
        "type": "object",
        "description": " ".join((cls.__doc__ or name).split()),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    return out


def _content_schema() -> dict[str, Any]:
    names = {"type": "array", "items": {"type": "string"}}
    class_names = {"oneOf": [{"type": "string"}, names]}
    kinds: dict[str, Any] = {
        "text": {"type": "string", "description": "Set as text; {path|fallback} placeholders."},
        "html": {"type": "string", "description": "Sanitized HTML (no scripts or handlers)."},
        "attrs": {
            "type": "object",
            "description": "Attributes to set; null removes one.",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
        "class": {
            "type": "object",
            "description": "Classes to add and remove.",
            "properties": {"add": class_names, "remove": class_names},
            "additionalProperties": False,
        },
        "hide": {"const": True, "description": "Hide the element."},
        "redirect": {
            "type": "string",
            "description": "Send the page to this URL (/path or https).",
        },
        "data": {"type": "object", "description": "Handed to perso.on('decision') callbacks."},
        "recommend": {
            "type": "object",
            "description": "A learned list of catalog items, filtered on the device.",
            "properties": {
                "list": {"type": "string", "examples": ["popular", "co_viewed"]},
                "count": {"type": "integer", "minimum": 1, "maximum": 50},
                "exclude_viewed": {"type": "boolean"},
                "title": {"type": "string"},
            },
            "additionalProperties": False,
        },
    }
    return {
        "type": "object",
        "description": "One or more content kinds: " + ", ".join(CONTENT_KINDS) + ".",
        "properties": kinds,
        "additionalProperties": False,
        "minProperties": 1,
    }


def json_schema() -> dict[str, Any]:
    """The whole schema; the root is the Ruleset object."""
    defs = {cls.__name__: _object_schema(cls) for cls in _MODEL_CLASSES}
    experience = defs["Experience"]
    experience["required"] = [r for r in experience["required"] if r not in ("slot", "variants")]
    experience.update(_BY_TYPE)
    root = defs.pop("Ruleset")
    defs.update(condition_defs())
    defs["content"] = _content_schema()
    defs["catalog_item"] = {
        "type": "object",
        "description": "A catalog item; fields beyond these are kept as they are.",
        "properties": {
            "id": {"type": ["string", "integer"]},
            "title": {"type": "string"},
            "url": {"type": "string"},
            "image": {"type": "string"},
            "price": {"type": "number"},
            "category": {"type": "string"},
        },
        "required": ["id"],
        "additionalProperties": True,
    }
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "perso ruleset",
        **root,
        "$defs": defs,
    }
