"""`PersoStack`: composes the constructs; outputs with the fixed ids `perso deploy` reads."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk import constants
from infra.cdk.access import ApiAccess
from infra.cdk.api import EventApi
from infra.cdk.cdn import Cdn
from infra.cdk.functions import Functions
from infra.cdk.learning import Learning
from infra.cdk.table import EventTable
from infra.cdk.token_key import TokenKey
from lambdas.models import settings

__all__ = ["PersoStack"]


class PersoStack(Stack):
    def __init__(self, scope: Construct, id: str, *, code: lambda_.Code, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        table = EventTable(self, "Events").table
        cdn = Cdn(self, "Cdn")
        token_key = TokenKey(self, "TokenKey").secret
        functions = Functions(
            self,
            "Functions",
            code=code,
            environment={
                settings.ENV_TABLE: table.table_name,
                settings.ENV_TOKEN_KEY_SECRET: token_key.secret_arn,
                settings.ENV_RETENTION_DAYS: str(constants.RETENTION_DAYS),
                settings.ENV_BUCKET: cdn.bucket.bucket_name,
                settings.ENV_DISTRIBUTION_ID: cdn.distribution.distribution_id,
                settings.ENV_COUNTER_SHARDS: str(constants.COUNTER_SHARDS),
            },
        )
        ApiAccess(
            self,
            "ApiAccess",
            table=table,
            token_key=token_key,
            bucket=cdn.bucket,
            roles=functions.roles,
        )
        api = EventApi(self, "Api", functions=functions.functions)
        Learning(
            self,
            "Learning",
            table=table,
            bucket=cdn.bucket,
            distribution=cdn.distribution,
            aggregate=functions.functions["aggregate"],
            aggregate_role=functions.roles["aggregate"],
            publish=functions.functions["publish"],
            publish_role=functions.roles["publish"],
        )
        self._build_outputs(
            {
                constants.OUTPUT_BUCKET: cdn.bucket.bucket_name,
                constants.OUTPUT_DISTRIBUTION: cdn.distribution.distribution_id,
                constants.OUTPUT_CDN_DOMAIN: cdn.distribution.distribution_domain_name,
                constants.OUTPUT_API_URL: api.api.api_endpoint,
                constants.OUTPUT_TABLE: table.table_name,
            }
        )

    def _build_outputs(self, outputs: dict[str, str]) -> None:
        for output_id, value in outputs.items():
            # Fixed logical ids = fixed output keys, whatever the construct tree looks like.
            CfnOutput(self, output_id, value=value)
