"""`LiveRulesets`: the live ruleset held in memory, its pointer re-read at most per max-age."""

from __future__ import annotations

from typing import Any

import pytest

from edge.artifact import encode
from edge.model import Ruleset
from lambdas.logic.decide import LiveRulesets
from lambdas.models.errors import NotFound


class Source:
    def __init__(self) -> None:
        self.artifacts: dict[str, bytes] = {}
        self.pointer: dict[str, Any] | None = None
        self.reads: list[str] = []

    def publish(self, ruleset: Ruleset) -> str:
        artifact = encode(ruleset)
        self.artifacts[artifact.sha256] = artifact.data
        self.pointer = {"sha256": artifact.sha256}
        return artifact.sha256

    def get_pointer(self, site: str) -> dict[str, Any] | None:
        self.reads.append("pointer")
        return self.pointer

    def get_artifact(self, site: str, sha256: str) -> bytes | None:
        self.reads.append("artifact")
        return self.artifacts.get(sha256)


def test_the_pointer_is_reread_after_max_age_and_the_artifact_only_when_it_changes() -> None:
    # Given a site with a published ruleset and a clock we move by hand
    source, now = Source(), [0.0]
    first = source.publish(Ruleset(site="s"))
    live = LiveRulesets(source, max_age=60, clock=lambda: now[0])
    # When it is asked for three times within a minute, then after it
    assert live.get("s")[0] == first
    now[0] = 59.0
    assert live.get("s")[0] == first
    assert source.reads == ["pointer", "artifact"]
    now[0] = 61.0
    assert live.get("s")[0] == first
    assert source.reads == ["pointer", "artifact", "pointer"]  # same sha256: no download
    # And a republish is taken up at the next check, not before
    second = source.publish(Ruleset(site="s", timezone="Europe/Paris"))
    now[0] = 100.0
    assert live.get("s")[0] == first
    now[0] = 122.0
    assert live.get("s")[0] == second


def test_a_broken_pointer_keeps_the_last_good_ruleset_and_none_is_a_404() -> None:
    source, now = Source(), [0.0]
    live = LiveRulesets(source, max_age=60, clock=lambda: now[0])
    with pytest.raises(NotFound, match="no published ruleset"):
        live.get("s")
    good = source.publish(Ruleset(site="s"))
    assert live.get("s")[0] == good
    source.pointer = {"sha256": "ab" * 32}  # names an artifact that is not there
    now[0] = 61.0
    assert live.get("s")[0] == good
