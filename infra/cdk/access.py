"""What the API functions may touch: the table's items they use, the token key, and for
decide the published rulesets and nothing else."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.cdk._iam import allow

__all__ = ["API_TABLE_ACTIONS", "DECIDE_TABLE_ACTIONS", "ApiAccess"]

# lambdas/dal/store.py: get/batch-get/query to read, put/batch-write to write (privacy's
# erase is a batch of deletes).
API_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "collect": (
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
        "dynamodb:PutItem", "dynamodb:BatchWriteItem",
    ),
    "ingest": (
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
        "dynamodb:PutItem", "dynamodb:BatchWriteItem",
    ),
    "privacy": (
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
        "dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
    ),
}  # fmt: skip
# decide reads the site's config (its origins, for CORS) and writes nothing; no token key.
DECIDE_TABLE_ACTIONS: tuple[str, ...] = ("dynamodb:GetItem",)


class ApiAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.Table,
        token_key: secretsmanager.ISecret,
        bucket: s3.IBucket,
        roles: Mapping[str, iam.Role],
    ) -> None:
        super().__init__(scope, id)
        for name, actions in API_TABLE_ACTIONS.items():
            self._build_grants(roles[name], actions, table, token_key)
        self._build_decide_grants(roles["decide"], table, bucket)

    def _build_decide_grants(
        self, role: iam.Role, table: dynamodb.Table, bucket: s3.IBucket
    ) -> None:
        allow(role, DECIDE_TABLE_ACTIONS, [table.table_arn])
        # Pointers and artifacts only: not the history, the sources or the runtime.
        allow(role, ["s3:GetObject"], [bucket.arn_for_objects("rulesets/*")])

    def _build_grants(
        self,
        role: iam.Role,
        actions: tuple[str, ...],
        table: dynamodb.Table,
        token_key: secretsmanager.ISecret,
    ) -> None:
        allow(role, actions, [table.table_arn])
        allow(role, ["secretsmanager:GetSecretValue"], [token_key.secret_arn])
