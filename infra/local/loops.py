"""The learning loops of the local stack: a DynamoDB Streams poller and a publish timer.

In AWS an event source mapping feeds the aggregate Lambda and an EventBridge rule calls
the publish Lambda. Locally (the dev server, tests) these two classes do the same with the
same shapes, against moto's server:

    StreamPoller(table_name, handler, *, client, interval=0.5, batch_size=100,
                 start="TRIM_HORIZON", max_attempts=3, function_name="perso-aggregate")
        Reads the table's stream with describe_table / describe_stream /
        get_shard_iterator / get_records and calls `handler(event, context)` with the
        Lambda DynamoDB event shape ({"Records": [{"eventID", "eventName", "eventSource":
        "aws:dynamodb", "awsRegion", "eventSourceARN", "dynamodb": {"Keys", "NewImage",
        "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType", ...}}]}), binary
        attributes base64-encoded as in Lambda's JSON. Only INSERTs of `E#` items are
        passed on (the mapping's filter in AWS). A `batchItemFailures` answer is honoured
        as Lambda does: the shard is re-read from the first failed sequence number, up to
        `max_attempts` times, then the record is skipped (and counted in `.skipped`).
        `poll_once() -> int` processes what is there now (records handed over), for tests.

    PublishTimer(handler, *, interval=60.0, region="us-east-1", rule="perso-publish")
        Calls `handler(event, context)` with an EventBridge "Scheduled Event" every
        `interval` seconds; `fire_once()` returns the handler's answer.

Both have `start()` (a daemon thread) and `stop(timeout=5.0)` (sets an Event, joins);
both are context managers. `client` is a boto3 `dynamodbstreams`-capable session client
pair: pass `client=(dynamodb_client, streams_client)`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from infra.local.context import LocalContext

__all__ = ["PublishTimer", "StreamPoller", "scheduled_event"]

Handler = Callable[[dict[str, Any], Any], Any]
log = logging.getLogger("perso.loops")


class _Loop:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self._failing: str | None = None  # the failure last reported, until a tick succeeds

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> _Loop:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._guarded(self._tick)
            self._stop.wait(self.interval)

    def _guarded(self, tick: Callable[[], object]) -> None:
        # A local loop must survive a bad tick, as Lambda retries. An operator needs one
        # line when a fault starts and one when it ends, not a traceback every half second.
        try:
            tick()
        except Exception as exc:  # reported below, and the loop goes on
            self.errors += 1
            line = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            if line != self._failing:
                log.warning(
                    "%s tick failed (%s); retrying every %g s, quiet until it changes",
                    type(self).__name__,
                    line,
                    self.interval,
                )
                self._failing = line
        else:
            if self._failing is not None:
                log.warning("%s works again after: %s", type(self).__name__, self._failing)
                self._failing = None

    def _tick(self) -> None:
        raise NotImplementedError


class StreamPoller(_Loop):
    """Feeds the table's stream to the aggregate handler (see the module docstring)."""

    def __init__(
        self,
        table_name: str,
        handler: Handler,
        *,
        client: tuple[Any, Any],
        interval: float = 0.5,
        batch_size: int = 100,
        start: str = "TRIM_HORIZON",
        max_attempts: int = 3,
        function_name: str = "perso-aggregate",
    ) -> None:
        super().__init__(interval)
        self.table_name = table_name
        self.handler = handler
        self._dynamodb, self._streams = client
        self.batch_size = batch_size
        self.start_at = start
        self.max_attempts = max_attempts
        self.function_name = function_name
        self._iterators: dict[str, str | None] = {}
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.delivered = 0
        self.skipped = 0
        self.answers: list[Any] = []

    def poll_once(self) -> int:
        """Read every shard once and hand the records over; returns how many were handed."""
        with self._lock:
            return self._poll()

    def _tick(self) -> None:
        self.poll_once()

    def _poll(self) -> int:
        arn = self._dynamodb.describe_table(TableName=self.table_name)["Table"].get(
            "LatestStreamArn"
        )
        if not arn:
            return 0
        handed = 0
        shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType=self.start_at
                )["ShardIterator"]
            handed += self._drain(arn, shard_id)
        return handed

    def _drain(self, arn: str, shard_id: str) -> int:
        handed = 0
        while self._iterators.get(shard_id):
            page = self._streams.get_records(
                ShardIterator=self._iterators[shard_id], Limit=self.batch_size
            )
            records = page.get("Records", [])
            next_iterator = page.get("NextShardIterator")
            wanted = [_lambda_record(r, arn) for r in records if _countable(r)]
            failed = None
            if wanted:
                handed += len(wanted)
                answer = self.handler({"Records": wanted}, LocalContext(self.function_name))
                self.answers.append(answer)
                failed = _first_failure(answer)
            if failed is not None:
                tries = self._attempts.get(failed, 0) + 1
                self._attempts[failed] = tries
                kind = "AT_SEQUENCE_NUMBER"
                if tries >= self.max_attempts:
                    kind = "AFTER_SEQUENCE_NUMBER"
                    self.skipped += 1
                    log.warning("stream record %s skipped after %d attempts", failed, tries)
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=arn,
                    ShardId=shard_id,
                    ShardIteratorType=kind,
                    SequenceNumber=failed,
                )["ShardIterator"]
                if tries < self.max_attempts:
                    return handed  # retry on the next tick, as the mapping backs off
                continue
            self.delivered += len(wanted)
            self._iterators[shard_id] = next_iterator
            if not records:
                break
        return handed


class PublishTimer(_Loop):
    """Calls the publish handler with a scheduled event every `interval` seconds."""

    def __init__(
        self,
        handler: Handler,
        *,
        interval: float = 60.0,
        region: str = "us-east-1",
        rule: str = "perso-publish",
        function_name: str = "perso-publish",
    ) -> None:
        super().__init__(interval)
        self.handler = handler
        self.region = region
        self.rule = rule
        self.function_name = function_name
        self.answers: list[Any] = []

    def fire_once(self) -> Any:
        answer = self.handler(
            scheduled_event(region=self.region, rule=self.rule),
            LocalContext(self.function_name),
        )
        self.answers.append(answer)
        return answer

    def _run(self) -> None:
        # The first publish happens after one interval, as a rate() schedule does.
        while not self._stop.wait(self.interval):
            self._guarded(self.fire_once)


def scheduled_event(*, region: str = "us-east-1", rule: str = "perso-publish") -> dict[str, Any]:
    """The EventBridge event a `rate(...)` rule sends to its target."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.isoformat().replace("+00:00", "Z"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/{rule}"],
        "detail": {},
    }


def _countable(record: dict[str, Any]) -> bool:
    # The event source mapping's filter in AWS: INSERT of an event item (sk "E#...").
    keys = record.get("dynamodb", {}).get("Keys", {})
    return record.get("eventName") == "INSERT" and str(keys.get("sk", {}).get("S", "")).startswith(
        "E#"
    )


def _lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A get_records record in the JSON shape Lambda delivers (epoch times, base64 binary)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = {k: _json_value(v) for k, v in stream[image].items()}
    return {
        "eventID": record.get("eventID", str(uuid.uuid4())),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": stream,
        "eventSourceARN": arn,
    }


def _json_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(b)).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: _json_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_json_value(v) for v in inner]}
    return {kind: inner}


def _first_failure(answer: Any) -> str | None:
    with contextlib.suppress(AttributeError, TypeError, KeyError, IndexError):
        failures = answer.get("batchItemFailures") or []
        if failures:
            # Lambda restarts from the lowest failed sequence number of the batch.
            return str(min(failures, key=lambda f: int(f["itemIdentifier"]))["itemIdentifier"])
    return None
