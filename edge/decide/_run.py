"""`Run`: the state of one `decide` call, shared by the slots of the page.

The slot loop (`edge.decide._walk`) reads and narrows it, explain (`edge.decide._explain`)
reads it to say why.
"""

from __future__ import annotations

import math
from typing import Any

from edge.decide._caps import session_exposures
from edge.decide._content import Recommender, page_items
from edge.decide._prepare import PreparedExperience, PreparedRuleset
from edge.decide._result import Decision
from edge.types import Attributes, Content, Profile

__all__ = ["Run"]


class Run:
    """The state of one `decide` call, shared by the slots of the page.

    The context and profile as read once (consent, sticky assignments, exposures,
    the session's count), the visitor's hashes, the exposures and assignments so
    far (the page policy counts them), and the window [low, high) around `now` in
    which the result stays the same.
    """

    __slots__ = (
        "assignments",
        "audience",
        "claimed",
        "consent",
        "context",
        "exposed",
        "exposures",
        "furthest",
        "hashes",
        "high",
        "items",
        "low",
        "now",
        "passed",
        "prepared",
        "profile",
        "session_count",
        "sticky",
        "visitor",
    )

    def __init__(
        self,
        prepared: PreparedRuleset,
        context: Attributes,
        profile: Profile,
        audience: dict[int, bool],
        hashes: dict[int, float | None],
        visitor: str | None,
        now: float,
    ) -> None:
        self.prepared = prepared
        self.context = context
        self.profile = profile
        # The context's audience results (shared by every call with the same context).
        self.audience = audience
        self.hashes = hashes
        self.visitor = visitor
        self.now = now
        self.exposures: list[dict[str, Any]] = []
        self.assignments: dict[str, str] = {}
        sticky = profile.get("assignments")
        self.sticky: dict[Any, Any] = sticky if isinstance(sticky, dict) else {}
        self.session_count = session_exposures(profile)
        exposed = profile.get("exposures")
        self.exposed: dict[Any, Any] = exposed if isinstance(exposed, dict) else {}
        consent = context.get("consent")
        self.consent: dict[Any, Any] = consent if isinstance(consent, dict) else {}
        self.low = -math.inf
        self.high = math.inf
        self.furthest = 0
        # The viewed items and the current one, read at the first recommend list.
        self.items: tuple[list[str], str | None] | None = None
        # Multivariate experiences (`edge.decide._multi`): the slots one took, with their
        # decisions; those passed over in all their slots (id -> furthest step, explain line).
        self.claimed: dict[str, Decision] = {}
        self.passed: dict[str, tuple[int, str]] = {}

    def policy_reached(self) -> str | None:
        """Which page policy holds before the next slot, if one does."""
        policy = self.prepared.ruleset.policy
        on_page = len(self.exposures)
        per_page = policy.max_experiences_per_page
        if per_page is not None and on_page >= per_page:
            return f"max_experiences_per_page {per_page} reached"
        per_session = policy.max_exposures_per_session
        if per_session is not None and self.session_count + on_page >= per_session:
            return f"max_exposures_per_session {per_session} reached"
        return None

    def content(self, candidate: PreparedExperience, index: int) -> tuple[Content | None, bool]:
        """The variant's content made ready, and False when a recommend list came out empty."""
        content = candidate.variants[index].content
        if content is None:
            return None, True
        filler = candidate.fillers[index]
        if filler is not None:
            content = filler.fill(self.context)
        if candidate.is_recommend[index]:
            spec = content.get("recommend")
            recommender = candidate.recommenders[index]
            if recommender is None or recommender.spec is not spec:
                recommender = Recommender(spec)  # a spec with placeholders, filled above
            items = self.items
            if items is None:
                items = self.items = page_items(self.context, self.profile)
            resolved = recommender.resolve(
                learned=self.prepared.ruleset.learned,
                catalog=self.prepared.catalog,
                viewed=items[0],
                current=items[1],
            )
            if resolved is None:
                return None, False
            content = {**content, "recommend": resolved}
        return content, True
