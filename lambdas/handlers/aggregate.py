"""DynamoDB stream -> counters (Powertools BatchProcessor, partial batch failures).

The event source mapping filters on `INSERT` of `E#` items and reports
`batchItemFailures`: a record whose writes failed (the store refused) is retried alone,
the rest of the batch is kept. A record that is not a countable event is skipped, not
failed, so one odd item never blocks its shard.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from lambdas.dal.client import make_client
from lambdas.dal.counters import DynamoCounters
from lambdas.logic.aggregate import aggregate, parse_event
from lambdas.models.settings import get_settings

__all__ = ["AfterFailure", "handler", "record_handler", "reset"]

logger = Logger(service="perso-aggregate")
# raise_on_entire_batch_failure=False: even an all-failed batch answers with its
# batchItemFailures (the mapping retries them) instead of an exception.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


@functools.lru_cache(maxsize=1)
def _counters() -> DynamoCounters:
    settings = get_settings()
    return DynamoCounters(
        make_client(settings.dynamodb_endpoint),
        settings.table_name,
        shards=settings.counter_shards,
    )


def reset() -> None:
    """Forget the cached store (the local stack and tests change the environment)."""
    _counters.cache_clear()


class _Batch(threading.local):
    failed = False


_batch = _Batch()


class AfterFailure(Exception):
    """A later record of a batch whose earlier record failed: left for the retry."""


def record_handler(record: DynamoDBRecord) -> None:
    # Lambda re-reads a stream shard from the lowest failed sequence number, so the records
    # after a failure come again: processing them now would count them twice.
    if _batch.failed:
        raise AfterFailure(f"record {record.dynamodb.sequence_number if record.dynamodb else ''}")
    try:
        _count(record)
    except Exception:
        _batch.failed = True
        raise


def _count(record: DynamoDBRecord) -> None:
    stream = record.dynamodb
    image = stream.new_image if stream is not None else {}
    event = parse_event(str(record.raw_event.get("eventName", "")), image)
    if event is None:
        return
    counters = _counters()
    aggregate(event, counters, shards=counters.shards)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    _batch.failed = False
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
