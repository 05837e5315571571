"""CloudFront serves only the public layout: never `sources/` (the YAML the publisher reads)
nor `rulesets/<site>/history/`. The guard function's code is taken from the synthesized
template and run in Node on real paths, so what is tested is what would be deployed."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from aws_cdk.assertions import Template

__all__: list[str] = []

SHA = "3f2a9c01d4e5b6a7" * 4
PUBLIC = [
    "/rulesets/demo-shop/latest.json",
    f"/rulesets/demo-shop/{SHA}.msgpack",
    "/runtime/0.1.0/worker.js",
    "/runtime/0.1.0/pyodide/pyodide.asm.wasm",
    "/perso.js",
    "/stub.js",
]
PRIVATE = [
    "/sources/demo-shop/ruleset.yaml",
    f"/rulesets/demo-shop/history/20260101T000000Z-{SHA}.json",
    f"/rulesets/demo-shop/history/{SHA}.msgpack",
    "/rulesets/demo-shop/history/latest.json",
    "/runtime/../sources/demo-shop/ruleset.yaml",
    "/",
    "/index.html",
    "/perso.js.map",
    "/rulesets/Demo_Shop/latest.json",
]


def _distribution(template: Template) -> dict[str, Any]:
    [distribution] = template.find_resources("AWS::CloudFront::Distribution").values()
    return dict(distribution["Properties"]["DistributionConfig"])


def test_only_the_public_prefixes_have_behaviors_and_every_behavior_is_guarded(
    template: Template,
) -> None:
    config = _distribution(template)
    patterns = [b["PathPattern"] for b in config["CacheBehaviors"]]
    assert sorted(patterns) == sorted(
        ["rulesets/*/latest.json", "rulesets/*.msgpack", "runtime/*", "perso.js", "stub.js"]
    )
    [function_id] = template.find_resources("AWS::CloudFront::Function")
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        [association] = behavior["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"
        assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}


def test_the_guard_passes_public_paths_and_answers_404_to_the_rest(template: Template) -> None:
    [function] = template.find_resources("AWS::CloudFront::Function").values()
    code = function["Properties"]["FunctionCode"]
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    script = code + (
        "\nconst uris = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(uris.map((uri) => {\n"
        "  const out = handler({request: {uri: uri, method: 'GET'}});\n"
        "  return out.statusCode || 'pass';\n"
        "})));\n"
    )
    uris = PUBLIC + PRIVATE
    run = subprocess.run(
        ["node", "-e", script, json.dumps(uris)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answers = dict(zip(uris, json.loads(run.stdout), strict=True))
    assert {uri: answers[uri] for uri in PUBLIC} == dict.fromkeys(PUBLIC, "pass")
    assert {uri: answers[uri] for uri in PRIVATE} == dict.fromkeys(PRIVATE, 404)
