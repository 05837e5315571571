"""The table behind a small interface (items are plain dicts; keys in TABLE.md).

Writes go in BatchWriteItem groups of 25; UnprocessedItems and throttling are retried
with exponential backoff and full jitter, a bounded number of times, then
`StoreUnavailable` is raised (the API answers 503 and the browser keeps its queue;
replays rewrite the same keys, so nothing is counted twice).

A `ClientError` becomes exactly one of the project's exceptions (`_store_error`): only
throttling and the service's own faults (and an unreachable endpoint) are
`StoreUnavailable`; a request the store refuses as invalid is `StoreRejected` (retrying it
can never succeed, so it must not become a 503 the browser retries forever); a failed
condition is `WriteConflict`; anything else (missing table, denied access) is `StoreError`.

>>> _plain(_to_attr({"n": 2.5, "b": b"x"}))
{'n': 2.5, 'b': b'x'}
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from cachetools import TTLCache

from lambdas.dal.client import make_client
from lambdas.models.errors import StoreError, StoreRejected, StoreUnavailable, WriteConflict
from lambdas.models.settings import Settings

__all__ = [
    "BATCH_SIZE",
    "INVALID_CODES",
    "PROFILE_FIELDS",
    "RETRYABLE_CODES",
    "Item",
    "Key",
    "Store",
    "get_store",
    "reset_store",
]

BATCH_SIZE = 25
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# The store judged the request itself invalid (a number out of range, an item over 400 KB).
INVALID_CODES = frozenset({"ValidationException", "SerializationException"})
# What the aggregator's profile updates change (TABLE.md): a conditional rewrite of a
# profile checks these, so it never overwrites an update it did not see.
PROFILE_FIELDS = ("counts", "visits", "recent", "segments")
Item = dict[str, Any]
Key = tuple[str, str]

_SER = TypeSerializer()
_DES = TypeDeserializer()


def _prepare(value: Any) -> Any:
    # boto3 refuses floats; Decimal(str(x)) keeps the decimal digits the client sent.
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _prepare(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_prepare(v) for v in value]
    return value


def _to_attr(item: Item) -> dict[str, Any]:
    return {k: _SER.serialize(_prepare(v)) for k, v in item.items() if v is not None}


def _unwrap(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_unwrap(v) for v in value]
    return value


def _plain(attrs: dict[str, Any]) -> Item:
    return {k: _unwrap(_DES.deserialize(v)) for k, v in attrs.items()}


def _chunks(seq: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


class Store:
    """One table. `client` is a boto3 DynamoDB client."""

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        attempts: int = 6,
        base_delay: float = 0.02,
        max_delay: float = 0.5,
        site_cache_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.table = table
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.retries = 0  # how many backoff rounds were needed (metrics, tests)
        self._sites: TTLCache[str, Item | None] = TTLCache(maxsize=256, ttl=site_cache_seconds)

    # -- writes ---------------------------------------------------------------------------

    def put_items(self, items: Iterable[Item]) -> int:
        """Write items in groups of 25; all or `StoreUnavailable`. Returns how many."""
        requests = [{"PutRequest": {"Item": _to_attr(item)}} for item in items]
        for group in _chunks(requests, BATCH_SIZE):
            self._batch_write(group)
        return len(requests)

    def put_each(self, items: Iterable[Item]) -> dict[int, str]:
        """PutItem one item at a time; the positions the store refused as invalid, each with
        the store's reason. The fallback that finds which item of a refused batch it was."""
        refused: dict[int, str] = {}
        for position, item in enumerate(items):
            try:
                self.put_item(item)
            except StoreRejected as exc:
                refused[position] = str(exc)
        return refused

    def delete_keys(self, keys: Iterable[Key]) -> int:
        requests = [{"DeleteRequest": {"Key": _key(pk, sk)}} for pk, sk in keys]
        for group in _chunks(requests, BATCH_SIZE):
            self._batch_write(group)
        return len(requests)

    def put_item(self, item: Item) -> None:
        """One PutItem (profiles, aliases, site config; the benchmark's baseline)."""
        self._call(lambda: self.client.put_item(TableName=self.table, Item=_to_attr(item)))

    def put_if_unchanged(
        self, item: Item, *, previous: Item | None, fields: tuple[str, ...] = PROFILE_FIELDS
    ) -> None:
        """PutItem only if the stored item still has `previous`'s `fields` (or, with no
        `previous`, does not exist); else `WriteConflict`. Optimistic concurrency against
        the aggregator's UpdateItem calls (see `PROFILE_FIELDS`)."""
        args = self._condition(previous, fields)
        self._conditional(
            lambda: self.client.put_item(TableName=self.table, Item=_to_attr(item), **args)
        )

    def set_if_unchanged(
        self,
        pk: str,
        sk: str,
        values: Item,
        *,
        previous: Item,
        fields: tuple[str, ...] = PROFILE_FIELDS,
    ) -> None:
        """UpdateItem SET `values` only if `fields` are as in `previous`; else `WriteConflict`."""
        args = self._condition(previous, fields)
        names = dict(args.get("ExpressionAttributeNames", {}))
        attrs = dict(args.get("ExpressionAttributeValues", {}))
        sets = []
        for index, (name, value) in enumerate(values.items()):
            names[f"#s{index}"] = name
            attrs[f":s{index}"] = _SER.serialize(_prepare(value))
            sets.append(f"#s{index} = :s{index}")
        self._conditional(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=_key(pk, sk),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=args["ConditionExpression"],
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attrs,
            )
        )

    @staticmethod
    def _condition(previous: Item | None, fields: tuple[str, ...]) -> dict[str, Any]:
        """`previous`'s fields as a condition. A map is compared entry by entry plus its
        size: equality of whole maps is not evaluated alike by every DynamoDB (dynalite)."""
        if previous is None:
            return {"ConditionExpression": "attribute_not_exists(pk)"}
        parts: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        for index, name in enumerate(fields):
            ref = f"#c{index}"
            names[ref] = name
            value = previous.get(name)
            if value is None:
                parts.append(f"attribute_not_exists({ref})")
            elif isinstance(value, dict):
                values[f":n{index}"] = {"N": str(len(value))}
                parts.append(f"size({ref}) = :n{index}")
                for entry, (key, inner) in enumerate(sorted(value.items())):
                    names[f"#e{index}_{entry}"] = key
                    values[f":e{index}_{entry}"] = _SER.serialize(_prepare(inner))
                    parts.append(f"{ref}.#e{index}_{entry} = :e{index}_{entry}")
            elif isinstance(value, list):
                values[f":n{index}"] = {"N": str(len(value))}
                parts.append(f"size({ref}) = :n{index}")
                for entry, inner in enumerate(value):
                    values[f":e{index}_{entry}"] = _SER.serialize(_prepare(inner))
                    parts.append(f"{ref}[{entry}] = :e{index}_{entry}")
            else:
                values[f":c{index}"] = _SER.serialize(_prepare(value))
                parts.append(f"{ref} = :c{index}")
        args: dict[str, Any] = {
            "ConditionExpression": " AND ".join(parts),
            "ExpressionAttributeNames": names,
        }
        if values:
            args["ExpressionAttributeValues"] = values
        return args

    def _conditional(self, fn: Callable[[], Any]) -> None:
        self._call(fn)  # a failed condition comes out as `WriteConflict` (`_store_error`)

    def _batch_write(self, pending: list[dict[str, Any]]) -> None:
        for attempt in range(self.attempts):
            try:
                response = self.client.batch_write_item(RequestItems={self.table: pending})
            except ClientError as exc:
                if _code(exc) not in RETRYABLE_CODES:
                    raise _store_error(exc) from exc
            except BotoCoreError as exc:
                raise StoreUnavailable("the event store could not be reached") from exc
            else:
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    return
            if attempt + 1 < self.attempts:
                self.retries += 1
                # Full jitter: spreads the retries of many concurrent functions apart.
                cap = min(self.max_delay, self.base_delay * 2**attempt)
                self.sleep(random.uniform(0, cap))
        raise StoreUnavailable(
            f"the event store is busy: {len(pending)} writes still refused after "
            f"{self.attempts} attempts; retry later"
        )

    # -- reads ----------------------------------------------------------------------------

    def get_item(self, pk: str, sk: str) -> Item | None:
        response = self._call(
            lambda: self.client.get_item(
                TableName=self.table, Key=_key(pk, sk), ConsistentRead=True
            )
        )
        return _plain(response["Item"]) if "Item" in response else None

    def get_items(self, keys: list[Key]) -> dict[Key, Item]:
        """BatchGetItem; missing keys are absent from the answer."""
        found: dict[Key, Item] = {}
        pending: dict[str, Any] = {"Keys": [_key(pk, sk) for pk, sk in dict.fromkeys(keys)]}
        for attempt in range(self.attempts):
            if not pending.get("Keys"):
                return found
            request = {self.table: pending}
            response = self._call(
                functools.partial(self.client.batch_get_item, RequestItems=request)
            )
            for attrs in response.get("Responses", {}).get(self.table, []):
                item = _plain(attrs)
                found[(item["pk"], item["sk"])] = item
            pending = response.get("UnprocessedKeys", {}).get(self.table, {})
            if pending.get("Keys") and attempt + 1 < self.attempts:
                self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))
        if pending.get("Keys"):
            raise StoreUnavailable("the event store is busy; retry later")
        return found

    def query(self, pk: str, *, prefix: str | None = None, limit: int | None = None) -> list[Item]:
        """All items of a partition (optionally those whose sk starts with `prefix`)."""
        expression = "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else "")
        values: dict[str, Any] = {":pk": {"S": pk}}
        if prefix:
            values[":p"] = {"S": prefix}
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": expression,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if limit:
            args["Limit"] = limit
        items: list[Item] = []
        while True:
            response = self._call(functools.partial(self.client.query, **args))
            items.extend(_plain(attrs) for attrs in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (limit and len(items) >= limit):
                return items
            args["ExclusiveStartKey"] = last

    def site_config(self, site: str) -> Item | None:
        """`S#<site>/CONFIG`, cached for a minute (every request reads it)."""
        if site in self._sites:
            return self._sites[site]
        config = self.get_item(f"S#{site}", "CONFIG")
        if self._sites.ttl > 0:
            self._sites[site] = config
        return config

    def forget_sites(self) -> None:
        self._sites.clear()

    def _call(self, fn: Callable[[], Any]) -> Any:
        """One request, retried like the batch writes when DynamoDB throttles."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except ClientError as exc:
                if _code(exc) not in RETRYABLE_CODES or attempt + 1 == self.attempts:
                    raise _store_error(exc) from exc
            except BotoCoreError as exc:
                raise StoreUnavailable("the event store could not be reached; retry later") from exc
            self.retries += 1
            self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))
        raise AssertionError("unreachable: the loop returns or raises")


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _store_error(exc: ClientError) -> Exception:
    """The one project exception for a `ClientError` (see the module docstring)."""
    code = _code(exc)
    reason = str(exc.response.get("Error", {}).get("Message") or "no reason given").strip()
    if code in RETRYABLE_CODES:
        return StoreUnavailable(f"the event store is busy ({code}); retry later")
    if code in INVALID_CODES:
        return StoreRejected(f"the event store refused it as invalid ({code}: {reason})")
    if code == "ConditionalCheckFailedException":
        return WriteConflict("the item changed since it was read")
    return StoreError(f"the event store failed ({code}: {reason})")


@functools.lru_cache(maxsize=1)
def _cached_store(settings: Settings) -> Store:
    return Store(
        make_client(settings.dynamodb_endpoint),
        settings.table_name,
        attempts=settings.write_attempts,
        site_cache_seconds=settings.site_cache_seconds,
    )


def get_store(settings: Settings) -> Store:
    """The process-wide store for these settings (created once, on first use)."""
    return _cached_store(settings)


def reset_store() -> None:
    _cached_store.cache_clear()
