"""The synthesized CloudFormation template of the perso stack (no AWS account needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.cdk import constants


def _resources(template: Template, kind: str) -> dict[str, Any]:
    return template.find_resources(kind)


def _statements(template: Template, role_hint: str) -> list[dict[str, Any]]:
    policies = _resources(template, "AWS::IAM::Policy")
    out = []
    for logical_id, policy in policies.items():
        if role_hint in logical_id:
            out.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    assert out, f"no policy for {role_hint}"
    return out


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    acts: set[str] = set()
    for st in statements:
        a = st["Action"]
        acts.update([a] if isinstance(a, str) else a)
    return acts


def test_table_has_stream_ttl_pitr_on_demand(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        },
    )


def test_functions_share_runtime_and_architecture(template: Template) -> None:
    functions = _resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(constants.FUNCTIONS) == 6
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values())
    assert handlers == sorted(h for h, _, _ in constants.FUNCTIONS.values())
    for function in functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
    # one role per function
    roles = {json.dumps(f["Properties"]["Role"]) for f in functions.values()}
    assert len(roles) == 6


def test_stream_mapping_reports_batch_item_failures_and_filters_inserts(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "StartingPosition": "TRIM_HORIZON",
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": constants.STREAM_MAX_RETRIES,
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )
    [mapping] = _resources(template, "AWS::Lambda::EventSourceMapping").values()
    pattern = json.loads(mapping["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "E#"}]}}},
    }


def test_publish_runs_on_a_schedule(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": f"rate({constants.PUBLISH_RATE_MINUTES} minutes)",
            "State": "ENABLED",
        },
    )


def test_http_api_routes(template: Template) -> None:
    routes = sorted(
        r["Properties"]["RouteKey"]
        for r in _resources(template, "AWS::ApiGatewayV2::Route").values()
    )
    assert routes == [
        "DELETE /v1/visitors/me", "GET /v1/visitors/me", "OPTIONS /v1/decide",
        "OPTIONS /v1/events", "OPTIONS /v1/visitors/me", "POST /v1/decide", "POST /v1/events",
        "POST /v1/ingest",
    ]  # fmt: skip
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})


def test_no_wildcard_actions_anywhere(template: Template) -> None:
    for policy in _resources(template, "AWS::IAM::Policy").values():
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
            assert not [a for a in actions if "*" in a], st
            if st["Resource"] == "*":
                # the one action IAM cannot scope to a resource
                assert actions == ["dynamodb:ListStreams"], st


@pytest.mark.parametrize("api_function", ["Collect", "Privacy", "Ingest"])
def test_api_functions_cannot_touch_s3_cloudfront_or_counters_stream(
    template: Template, api_function: str
) -> None:
    actions = _actions(_statements(template, f"Functions{api_function}Role"))
    assert not {a for a in actions if a.startswith(("s3:", "cloudfront:"))}
    assert not {a for a in actions if a in ("dynamodb:GetRecords", "dynamodb:UpdateItem")}
    assert "secretsmanager:GetSecretValue" in actions


def test_decide_reads_the_rulesets_and_the_site_config_only(template: Template) -> None:
    statements = _statements(template, "FunctionsDecideRole")
    assert _actions(statements) == {
        "logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:GetItem", "s3:GetObject",
    }  # fmt: skip
    s3_statement = next(st for st in statements if st["Action"] == "s3:GetObject")
    assert "/rulesets/*" in json.dumps(s3_statement["Resource"])


def test_collect_cannot_delete_and_privacy_cannot_put(template: Template) -> None:
    assert "dynamodb:DeleteItem" not in _actions(_statements(template, "FunctionsCollectRole"))
    assert "dynamodb:PutItem" not in _actions(_statements(template, "FunctionsPrivacyRole"))


def test_learning_functions_get_only_their_part(template: Template) -> None:
    aggregate = _actions(_statements(template, "FunctionsAggregateRole"))
    assert {"dynamodb:GetRecords", "dynamodb:UpdateItem"} <= aggregate
    assert not {a for a in aggregate if a.startswith(("s3:", "cloudfront:", "secretsmanager:"))}
    publish = _actions(_statements(template, "FunctionsPublishRole"))
    assert {"s3:PutObject", "cloudfront:CreateInvalidation", "dynamodb:Query"} <= publish
    assert "dynamodb:GetRecords" not in publish and "secretsmanager:GetSecretValue" not in publish


def test_cdn_cache_headers_follow_the_design(template: Template) -> None:
    headers = _resources(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    values = sorted(
        h["Properties"]["ResponseHeadersPolicyConfig"]["CustomHeadersConfig"]["Items"][0]["Value"]
        for h in headers
    )
    assert values == sorted([constants.ARTIFACT_CACHE_CONTROL, constants.POINTER_CACHE_CONTROL])
    assert constants.POINTER_CACHE_CONTROL == (
        "max-age=60, stale-while-revalidate=86400, stale-if-error=604800"
    )
    [distribution] = _resources(template, "AWS::CloudFront::Distribution").values()
    behaviors = {
        b["PathPattern"]: b
        for b in distribution["Properties"]["DistributionConfig"]["CacheBehaviors"]
    }
    # the pointer's own behavior comes before the catch-all for artifacts
    patterns = list(behaviors)
    assert patterns.index("rulesets/*/latest.json") < patterns.index("rulesets/*.msgpack")
    policies = _resources(template, "AWS::CloudFront::CachePolicy")
    pointer_policy = policies[behaviors["rulesets/*/latest.json"]["CachePolicyId"]["Ref"]]
    config = pointer_policy["Properties"]["CachePolicyConfig"]
    assert (config["DefaultTTL"], config["MaxTTL"]) == (60, 60)
    artifact_policy = policies[behaviors["rulesets/*.msgpack"]["CachePolicyId"]["Ref"]]
    assert artifact_policy["Properties"]["CachePolicyConfig"]["DefaultTTL"] == 365 * 86400


def test_bucket_is_private_and_token_key_generated(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            }
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"Name": constants.TOKEN_KEY_SECRET, "GenerateSecretString": Match.object_like({})},
    )


def test_outputs_have_the_fixed_ids_perso_deploy_reads(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    for output_id in (
        constants.OUTPUT_BUCKET, constants.OUTPUT_DISTRIBUTION, constants.OUTPUT_CDN_DOMAIN,
        constants.OUTPUT_API_URL, constants.OUTPUT_TABLE,
    ):  # fmt: skip
        assert output_id in outputs
