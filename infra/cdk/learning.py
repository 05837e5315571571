"""The learning path: table stream -> aggregate (partial batch failures), schedule -> publish.

Each function gets exactly what it uses (lambdas/dal/counters.py, lambdas/dal/cdn.py):
aggregate reads the stream and updates/puts/reads counters; publish reads counters,
writes segment rules, reads and writes the bucket and invalidates the distribution.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk import constants
from infra.cdk._iam import allow

__all__ = ["Learning"]


class Learning(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.Table,
        bucket: s3.IBucket,
        distribution: cloudfront.IDistribution,
        aggregate: lambda_.Function,
        aggregate_role: iam.Role,
        publish: lambda_.Function,
        publish_role: iam.Role,
    ) -> None:
        super().__init__(scope, id)
        self.failures = self._build_failure_queue()
        self.mapping = self._build_stream_mapping(table, aggregate, aggregate_role)
        self.rule = self._build_schedule(publish)
        self._build_publish_access(table, bucket, distribution, publish_role)

    def _build_failure_queue(self) -> sqs.Queue:
        # Records that still fail after the retries are described here (not lost silently).
        return sqs.Queue(
            self,
            "AggregateFailures",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )

    def _build_stream_mapping(
        self, table: dynamodb.Table, aggregate: lambda_.Function, role: iam.Role
    ) -> lambda_.EventSourceMapping:
        stream_arn = table.table_stream_arn
        assert stream_arn is not None
        allow(
            role,
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            [stream_arn],
        )
        # ListStreams has no resource type in IAM: it can only be granted on "*".
        allow(role, ["dynamodb:ListStreams"], ["*"])
        allow(
            role,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
            [table.table_arn],
        )
        return lambda_.EventSourceMapping(
            self,
            "StreamToAggregate",
            target=aggregate,
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=constants.STREAM_BATCH_SIZE,
            max_batching_window=Duration.seconds(5),
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=constants.STREAM_MAX_RETRIES,
            on_failure=sources.SqsDlq(self.failures),
            # Count INSERTs of event items only: replays (MODIFY), profiles and counters
            # never reach the function.
            filters=[
                lambda_.FilterCriteria.filter(
                    {
                        "eventName": lambda_.FilterRule.is_equal("INSERT"),
                        "dynamodb": {"Keys": {"sk": {"S": lambda_.FilterRule.begins_with("E#")}}},
                    }
                )
            ],
        )

    def _build_schedule(self, publish: lambda_.Function) -> events.Rule:
        return events.Rule(
            self,
            "PublishSchedule",
            description="perso: learn from counters and republish rulesets",
            schedule=events.Schedule.rate(Duration.minutes(constants.PUBLISH_RATE_MINUTES)),
            targets=[targets.LambdaFunction(publish, retry_attempts=2)],
        )

    def _build_publish_access(
        self,
        table: dynamodb.Table,
        bucket: s3.IBucket,
        distribution: cloudfront.IDistribution,
        role: iam.Role,
    ) -> None:
        allow(role, ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"], [table.table_arn])
        allow(role, ["s3:GetObject", "s3:PutObject"], [bucket.arn_for_objects("*")])
        allow(role, ["s3:ListBucket"], [bucket.bucket_arn])
        distribution_arn = Stack.of(self).format_arn(
            service="cloudfront",
            region="",
            resource="distribution",
            resource_name=distribution.distribution_id,
        )
        allow(role, ["cloudfront:CreateInvalidation"], [distribution_arn])
