"""Counters, markers and profile features in the perso table (keys in TABLE.md, "Counters").

`DynamoCounters` is the aggregator's `Sink`, the publisher's counter reader and the report's.
Counter rows are `UpdateItem ... ADD` (atomic, commutative), markers are conditional puts
that hand back the stored marker when it exists (`ReturnValuesOnConditionCheckFailure`, no
extra read), running totals are one conditional `UpdateItem`, the profile is one
`UpdateItem` returning the old image (plus a second one only when visits, the recent items
or the segments change). `ClientError` becomes `StoreUnavailable`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from cachetools import TTLCache

from lambdas.models.counters import (
    RECENT,
    TABLES,
    Add,
    Marker,
    ProfileChange,
    ProfileState,
    Running,
    Snapshot,
    WeightsRecord,
    segments_for,
)
from lambdas.models.errors import StoreUnavailable

__all__ = ["DynamoCounters", "counter_pk"]

_SER = TypeSerializer()
_DES = TypeDeserializer()
_LABELS = ("exp", "var", "day", "dev", "stage", "nr", "item", "a", "b", "f", "bucket")
_MAPS = ("counts", "expo", "assign", "conv")


def counter_pk(site: str, table: str, shard: int | None = None) -> str:
    """>>> counter_pk("demo", "X", 3)
    'K#demo#X#3'
    """
    return f"K#{site}#{table}" if shard is None else f"K#{site}#{table}#{shard}"


class DynamoCounters:
    """The aggregator's sink and the publisher's reader over one table."""

    def __init__(
        self, client: Any, table: str, *, shards: int = 4, rules_cache_seconds: float = 300.0
    ) -> None:
        self._client = client
        self._table = table
        self.shards = shards
        self._rules: TTLCache[str, dict[str, dict[str, Any]]] = TTLCache(
            maxsize=256, ttl=rules_cache_seconds
        )

    # --- aggregate side ---------------------------------------------------------------

    def add(self, site: str, shard: int, rows: Sequence[Add]) -> None:
        merged: dict[tuple[str, str], tuple[Mapping[str, str], dict[str, float]]] = {}
        for row in rows:
            _, deltas = merged.setdefault((row.table, row.key), (row.labels, {}))
            for name, delta in row.deltas.items():
                deltas[name] = deltas.get(name, 0.0) + delta
        for (table, key), (labels, deltas) in merged.items():
            names: dict[str, str] = {}
            values: dict[str, Any] = {}
            sets = []
            for index, (label, text) in enumerate(sorted(labels.items())):
                names[f"#l{index}"], values[f":l{index}"] = label, {"S": text}
                sets.append(f"#l{index} = :l{index}")
            adds = []
            for index, (name, delta) in enumerate(sorted(deltas.items())):
                names[f"#c{index}"], values[f":c{index}"] = name, _num(delta)
                adds.append(f"#c{index} :c{index}")
            expression = (
                f"SET {', '.join(sets)} ADD {', '.join(adds)}"
                if sets
                else (f"ADD {', '.join(adds)}")
            )
            self._call(
                self._client.update_item,
                TableName=self._table,
                Key=_key(counter_pk(site, table, shard), key),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def claim(self, owner: str, marker: str, attrs: Mapping[str, str], ttl: int | None) -> Marker:
        item: dict[str, str | int] = {"pk": owner, "sk": marker, **attrs}
        if ttl is not None:
            item["ttl"] = ttl
        try:
            self._client.put_item(
                TableName=self._table,
                Item={k: _SER.serialize(v) for k, v in item.items()},
                ConditionExpression="attribute_not_exists(pk)",
                # the stored marker comes back with the refusal: no second read
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                # Also for the event that created it (a redelivered record): first writes
                # count once, so `visitors` and `u:*` never count a visitor twice.
                return Marker(False, _texts(_old_item(exc)))
            raise StoreUnavailable(f"the counter store failed ({_code(exc)})") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the counter store could not be reached") from exc
        return Marker(True, dict(attrs))

    def accumulate(
        self, owner: str, marker: str, attrs: Mapping[str, str], value: float, ttl: int | None
    ) -> Running:
        event_id = attrs.get("eid", "")
        names = {"#ids": "ids", "#tot": "tot", "#n": "n"}
        values: dict[str, Any] = {
            ":eid": {"S": event_id},
            ":ids": {"SS": [event_id]},
            ":v": _num(value),
            ":one": _num(1),
        }
        sets = []
        for index, (name, text) in enumerate(sorted(attrs.items())):
            if name != "eid":
                names[f"#a{index}"], values[f":a{index}"] = name, {"S": text}
                sets.append(f"#a{index} = if_not_exists(#a{index}, :a{index})")
        if ttl is not None:
            names["#ttl"], values[":ttl"] = "ttl", _num(ttl)
            sets.append("#ttl = :ttl")
        update = "ADD #tot :v, #n :one, #ids :ids"
        if sets:
            update = f"SET {', '.join(sets)} {update}"
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=_key(owner, marker),
                UpdateExpression=update,
                # each event id once: a redelivered record must not add its value twice
                ConditionExpression="attribute_not_exists(#ids) OR NOT contains(#ids, :eid)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"the counter store failed ({_code(exc)})") from exc
            # Added already (a redelivered record): the total without it, as if it came last.
            done = _old_item(exc)
            total = Decimal(str(done.get("tot", 0))) - Decimal(_num(value)["N"])
            return Running(first=False, before=float(total))
        except BotoCoreError as exc:
            raise StoreUnavailable("the counter store could not be reached") from exc
        old = {k: _DES.deserialize(v) for k, v in answer.get("Attributes", {}).items()}
        # A marker from before running totals (no `n`) is a visitor who converted already.
        return Running(first=not old, before=float(old.get("tot", 0)))

    def assignments(self, owner: str) -> dict[str, Mapping[str, str]]:
        out: dict[str, Mapping[str, str]] = {}
        for item in self._query(owner, "MX#"):
            if isinstance(item.get("var"), str):
                out[str(item["sk"])[3:]] = _texts(item)
        return out

    def segment_rules(self, site: str) -> dict[str, dict[str, Any]]:
        if site not in self._rules:
            item = self._get(counter_pk(site, "CFG"), "SEGMENTS")
            rules = (item or {}).get("rules")
            self._rules[site] = rules if isinstance(rules, dict) else {}
        return self._rules[site]

    def put_segment_rules(self, site: str, rules: Mapping[str, Mapping[str, Any]]) -> None:
        item = {"pk": counter_pk(site, "CFG"), "sk": "SEGMENTS", "rules": _decimals(rules)}
        self._call(
            self._client.put_item,
            TableName=self._table,
            Item={k: _SER.serialize(v) for k, v in item.items()},
        )
        self._rules.pop(site, None)

    def update_profile(
        self, owner: str, change: ProfileChange, *, rules: Mapping[str, Mapping[str, Any]]
    ) -> ProfileState:
        old = self._profile_add(owner, change)
        if old.get("merged_into"):
            # identify merged this visitor into a customer: the customer profile learns now
            owner = str(old["merged_into"])
            old = self._profile_add(owner, change, follow=False)
        before = _features(old)
        visits = 0 if old.get("lastday") == change.day else 1
        after = dict(before)
        after["value"] += change.value
        after["purchases"] += change.counts.get("purchase", 0)
        after["visits"] += visits
        recent_before = [str(i) for i in old.get("recent") or [] if isinstance(i, str)]
        segments_before = [str(s) for s in old.get("segments") or []]
        segments_after = segments_for(after, rules)
        recent = recent_before
        if change.viewed is not None:
            recent = [change.viewed, *(i for i in recent_before if i != change.viewed)][:RECENT]
        if visits or recent != recent_before or segments_after != segments_before:
            self._call(
                self._client.update_item,
                TableName=self._table,
                Key=_key(owner, "P"),
                # placeholders: SEGMENTS and others are DynamoDB reserved words
                UpdateExpression="SET #r = :r, #s = :s ADD #v :v",
                ExpressionAttributeNames={"#r": "recent", "#s": "segments", "#v": "visits"},
                ExpressionAttributeValues={
                    ":r": _SER.serialize(recent),
                    ":s": _SER.serialize(segments_after),
                    ":v": _num(visits),
                },
            )
        return ProfileState(before, after, recent_before, segments_before, segments_after)

    def _profile_add(
        self, owner: str, change: ProfileChange, *, follow: bool = True
    ) -> dict[str, Any]:
        names: dict[str, str] = {"#value": "value", "#day": "lastday", "#now": "updated"}
        values: dict[str, Any] = {
            ":day": {"S": change.day},
            ":now": _num(int(time.time())),
            ":val": _num(change.value),
        }
        sets = ["#day = :day", "#now = :now"]
        adds = ["#value :val"]
        for index, (map_name, entries) in enumerate(
            (("counts", change.counts), ("expo", change.expo), ("conv", change.conv))
        ):
            for key_index, (key, amount) in enumerate(entries.items()):
                names[f"#m{index}"] = map_name
                names[f"#k{index}_{key_index}"] = key
                values[f":a{index}_{key_index}"] = _num(amount)
                adds.append(f"#m{index}.#k{index}_{key_index} :a{index}_{key_index}")
        for key_index, (key, variant) in enumerate(change.assign.items()):
            names["#assign"] = "assign"
            names[f"#s{key_index}"] = key
            values[f":s{key_index}"] = {"S": variant}
            sets.append(f"#assign.#s{key_index} = :s{key_index}")
        args = {
            "TableName": self._table,
            "Key": _key(owner, "P"),
            "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_OLD",
        }
        if follow:
            args["ConditionExpression"] = "attribute_not_exists(merged_into)"
        for _ in range(2):
            try:
                answer = self._client.update_item(**args)
                return {k: _DES.deserialize(v) for k, v in answer.get("Attributes", {}).items()}
            except ClientError as exc:
                code = _code(exc)
                if code == "ConditionalCheckFailedException":
                    return self._get(owner, "P") or {}
                if code != "ValidationException":
                    raise StoreUnavailable(f"the counter store failed ({code})") from exc
                # a nested ADD needs its map to exist: create the missing maps, then retry
                self._call(
                    self._client.update_item,
                    TableName=self._table,
                    Key=_key(owner, "P"),
                    UpdateExpression="SET "
                    + ", ".join(f"#m{i} = if_not_exists(#m{i}, :empty)" for i in range(len(_MAPS))),
                    ExpressionAttributeNames={f"#m{i}": m for i, m in enumerate(_MAPS)},
                    ExpressionAttributeValues={":empty": {"M": {}}},
                )
            except BotoCoreError as exc:
                raise StoreUnavailable("the counter store could not be reached") from exc
        raise StoreUnavailable(f"the profile {owner!r} could not be updated")

    def record_weights(self, site: str, record: WeightsRecord) -> bool:
        """Keep `record` unless the experience's latest record has the same weights."""
        latest = self._latest_weights(site, record.experience)
        if latest is not None and dict(latest.weights) == dict(record.weights):
            return False
        item = {
            "pk": counter_pk(site, "W"),
            "sk": f"{record.experience}#{_stamp(record.at)}",
            "exp": record.experience,
            "at": record.at,
            "weights": _decimals(dict(record.weights)),
        }
        self._call(
            self._client.put_item,
            TableName=self._table,
            Item={k: _SER.serialize(v) for k, v in item.items()},
        )
        return True

    def weight_history(self, site: str, experience: str | None = None) -> list[WeightsRecord]:
        """Every weights record of `site` (or of one experience), oldest first per experience."""
        prefix = None if experience is None else f"{experience}#"
        return [_weights(item) for item in self._query(counter_pk(site, "W"), prefix)]

    def _latest_weights(self, site: str, experience: str) -> WeightsRecord | None:
        page = self._call(
            self._client.query,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": counter_pk(site, "W")},
                ":p": {"S": f"{experience}#"},
            },
            ScanIndexForward=False,
            Limit=1,
        )
        items = page.get("Items", [])
        return _weights({k: _DES.deserialize(v) for k, v in items[0].items()}) if items else None

    # --- report side ------------------------------------------------------------------

    def variant_rows(self, site: str, experience: str | None = None) -> list[Add]:
        """The experience rows of `site` (or of one experience), one per stored item."""
        prefix = None if experience is None else f"{experience}#"
        rows = []
        for shard in range(self.shards):
            for item in self._query(counter_pk(site, "X", shard), prefix):
                rows.append(_row("X", item))
        return rows

    # --- publish side -----------------------------------------------------------------

    def snapshot(self, site: str) -> Snapshot:
        """Every counter of `site`, summed over shards and days."""
        snapshot = Snapshot()
        for table in TABLES:
            for shard in range(self.shards):
                for item in self._query(counter_pk(site, table, shard), None):
                    snapshot.add(_row(table, item))
        return snapshot

    # --- helpers ----------------------------------------------------------------------

    def _query(self, pk: str, prefix: str | None) -> Iterator[dict[str, Any]]:
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        if prefix:
            args["KeyConditionExpression"] += " AND begins_with(sk, :p)"
            args["ExpressionAttributeValues"][":p"] = {"S": prefix}
        while True:
            page = self._call(self._client.query, **args)
            for raw in page.get("Items", []):
                yield {k: _DES.deserialize(v) for k, v in raw.items()}
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        answer = self._call(self._client.get_item, TableName=self._table, Key=_key(pk, sk))
        raw = answer.get("Item")
        return None if raw is None else {k: _DES.deserialize(v) for k, v in raw.items()}

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            raise StoreUnavailable(f"the counter store failed ({_code(exc)})") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the counter store could not be reached") from exc


def _row(table: str, item: Mapping[str, Any]) -> Add:
    labels = {k: str(item[k]) for k in _LABELS if k in item}
    deltas = {k: float(v) for k, v in item.items() if isinstance(v, Decimal) and k != "ttl"}
    return Add(table, str(item["sk"]), labels, deltas)


def _old_item(exc: ClientError) -> dict[str, Any]:
    raw = exc.response.get("Item") or {}
    return {k: _DES.deserialize(v) for k, v in raw.items()}


def _texts(item: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in item.items() if isinstance(v, str) and k not in ("pk", "sk")}


def _weights(item: Mapping[str, Any]) -> WeightsRecord:
    raw = item.get("weights")
    weights = {str(k): float(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return WeightsRecord(str(item.get("exp", "")), int(item.get("at", 0)), weights)


def _stamp(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _features(profile: Mapping[str, Any]) -> dict[str, float]:
    counts = profile.get("counts") if isinstance(profile.get("counts"), dict) else {}
    return {
        "value": float(profile.get("value") or 0),
        "purchases": float((counts or {}).get("purchase") or 0),
        "visits": float(profile.get("visits") or 0),
    }


def _num(value: float) -> dict[str, str]:
    # Decimal(str(x)) keeps what was counted; repr of a float would leak binary noise.
    text = format(Decimal(str(round(float(value), 6))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return {"N": "0" if text in ("-0", "") else text}


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(k): _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
