"""The local stack resets every handler's cached clients, so stacks can follow each other
in one process (the dev server restarts one; each test module starts its own)."""

from __future__ import annotations

from infra.local.context import LocalContext
from infra.local.loops import scheduled_event
from infra.local.stack import start_local_backend
from lambdas.handlers import publish

__all__: list[str] = []


def test_second_stack_publishes_to_its_own_bucket_not_the_first_ones() -> None:
    first = start_local_backend(bucket="perso-cdn-first", loops=False)
    try:
        answer = publish.handler(scheduled_event(), LocalContext("perso-publish"))
        assert answer == {"published": []}  # an empty bucket: no site to publish
        cdn, _counters, _sites = publish._backends()
        assert cdn.bucket == "perso-cdn-first"
    finally:
        first.stop()
    second = start_local_backend(bucket="perso-cdn-second", loops=False)
    try:
        s3 = second.client("s3")
        s3.put_object(Bucket="perso-cdn-second", Key="rulesets/other/latest.json", Body=b"{}")
        cdn, _counters, _sites = publish._backends()
        # Stale caches would still name the first bucket, on the stopped first server.
        assert cdn.bucket == "perso-cdn-second"
        assert list(cdn.sites()) == ["other"]
    finally:
        second.stop()
