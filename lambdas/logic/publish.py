"""Publishing: learned params -> artifact -> pointer (scheduled publish, deploy, rollback).

One write path serves the three uses (DESIGN §6): the artifact, a history entry and
`latest.json`, written by the CDN in `lambdas.models.cdn.in_publish_order` (the artifact
first, the pointer last), then a CloudFront invalidation of that one path. Nothing is
written when the new artifact's sha256 equals the current pointer's (an unchanged
experiment, an unchanged source): artifacts are content-addressed and `learn` is
deterministic (seeded bandit, ties broken by id).

- `publish_site(site, cdn=, counters=, now=)`: the EventBridge schedule. The base is the
  deployed source (`sources/<site>/ruleset.yaml`) or else the current artifact. It then
  records each experience's live variant weights when they changed (`K#<site>#W`), so the
  report's sample-ratio check knows which split was live on which day.
- `deploy_ruleset(ruleset, cdn=, now=, source=)`: `perso deploy`; keeps the current learned
  params that still fit the new ruleset.
- `preview_ruleset(ruleset, cdn=)`: `perso deploy --preview`; the artifact deploy would
  publish, uploaded (content-addressed) without moving the pointer: no history entry, no
  source, no pin. A browser asks for it by its sha256 (`?perso_preview=<sha256>`).
- `rollback_site(site, cdn=, now=, to=None)`: `perso rollback`; a pointer write from history,
  and a pin (`sources/<site>/pin.json`). Without `to`: the version live before the last
  deploy, pause, resume or rollback (scheduled re-weightings since belong to that change).
- `set_paused(site, experience, paused=, cdn=, now=)`: `perso pause` / `perso resume`.

A rollback pins the version it restored: `publish_site` publishes nothing for a pinned site
until the next `deploy_ruleset` clears the pin. Pinning (rather than restoring the older
source) is what keeps the rollback exact: the pointer keeps naming the very artifact that
was rolled back to, with the learned weights it had, instead of a recompiled cousin with
fresh weights and another sha256; and a rollback to an artifact published before sources
were kept still works. Learning resumes with the next deploy.

Paused experiences (`sources/<site>/paused.json`) are left out of every publish (scheduled,
deploy, pause) until resumed: a kill switch that needs no edit to the YAML.

Each history entry carries `command` and `deployed_by` (private: the public pointer does not).

Problems a person can fix raise `PublishError` with one sentence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from edge.artifact import ArtifactError, encode, load, pointer
from edge.compiler import compile_text
from edge.model import Learned, Ruleset
from lambdas.logic.bandit import Arm, thompson_weights
from lambdas.logic.recommend import co_viewed, recommendation_lists, segment_thresholds
from lambdas.models.counters import Snapshot, WeightsRecord

__all__ = [
    "Cdn",
    "CounterReader",
    "PublishError",
    "PublishResult",
    "deploy_ruleset",
    "learn",
    "live_ruleset",
    "live_weights",
    "merge_learned",
    "preview_ruleset",
    "publish_site",
    "rollback_site",
    "set_paused",
    "without_paused",
]


class PublishError(ValueError):
    """Something a person must fix (no history, unknown version, no source)."""


class Cdn(Protocol):
    def get_pointer(self, site: str) -> dict[str, Any] | None: ...
    def get_artifact(self, site: str, sha256: str) -> bytes | None: ...
    def get_source(self, site: str) -> str | None: ...
    def history(self, site: str) -> list[dict[str, Any]]: ...
    def get_pin(self, site: str) -> dict[str, Any] | None: ...
    def get_paused(self, site: str) -> list[str]: ...
    def put_release(
        self,
        site: str,
        sha256: str,
        data: bytes,
        pointer: dict[str, Any],
        *,
        stamp: str,
        note: dict[str, Any] | None = None,
    ) -> str: ...
    def put_pointer(
        self,
        site: str,
        pointer: dict[str, Any],
        *,
        stamp: str,
        note: dict[str, Any] | None = None,
    ) -> str: ...
    def put_artifact(self, site: str, sha256: str, data: bytes) -> str: ...
    def put_source(self, site: str, text: str) -> str: ...
    def put_pin(self, site: str, pin: dict[str, Any] | None) -> None: ...
    def put_paused(self, site: str, experiences: list[str]) -> None: ...
    def invalidate(self, paths: list[str]) -> str | None: ...


class CounterReader(Protocol):
    def snapshot(self, site: str) -> Snapshot: ...
    def put_segment_rules(self, site: str, rules: Mapping[str, Mapping[str, Any]]) -> None: ...
    def record_weights(self, site: str, record: WeightsRecord) -> bool: ...


@dataclass(frozen=True, slots=True)
class PublishResult:
    site: str
    changed: bool
    sha256: str | None
    version: str | None
    reason: str
    pointer: dict[str, Any] | None = None
    size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def learn(
    ruleset: Ruleset, snapshot: Snapshot, *, floor: float = 0.05, min_exposed: int = 100
) -> Learned:
    """Learned params from counters: bandit weights, recommendation lists, segments."""
    weights = {}
    for experience in ruleset.experiences:
        if experience.allocation != "bandit" or len(experience.variants) < 2:
            continue
        arms = [_arm(snapshot, experience.id, v.id, experience.goals) for v in experience.variants]
        if any(arm.exposed < min_exposed for arm in arms):
            continue  # too early: the source weights stand
        weights[experience.id] = thompson_weights(
            arms,
            current=[v.weight for v in experience.variants],
            seed=f"{ruleset.site}:{experience.id}",
            floor=floor,
            min_exposed=min_exposed,
        )
    catalog = list(ruleset.catalog)
    return Learned(
        weights=weights,
        recommendations=recommendation_lists(snapshot, catalog=catalog),
        co_viewed=co_viewed(snapshot, catalog=catalog),
        segments=segment_thresholds(snapshot),
    )


def merge_learned(ruleset: Ruleset, learned: Learned) -> Learned:
    """The learned params that still fit `ruleset` (bandit weights of unchanged experiences)."""
    variants = {e.id: len(e.variants) for e in ruleset.experiences if e.allocation == "bandit"}
    weights = {k: w for k, w in learned.weights.items() if variants.get(k) == len(w)}
    return dataclasses.replace(learned, weights=weights)


def publish_site(site: str, *, cdn: Cdn, counters: CounterReader, now: datetime) -> PublishResult:
    """Learn from the counters and publish when the artifact changed (never when pinned).

    A rollback that lands while this runs wins: the pin is read again before the write,
    and after it, when the pointer this publish wrote is put back to the pinned one.
    """
    if (pinned := _pinned(site, cdn)) is not None:
        return pinned
    base = _base_ruleset(site, cdn)
    if base is None:
        return PublishResult(site, False, None, None, "no deployed source or artifact")
    learned = learn(base, counters.snapshot(site))
    if learned.segments:
        counters.put_segment_rules(site, learned.segments)
    ruleset = _without(dataclasses.replace(base, learned=learned), cdn.get_paused(site))
    if (pinned := _pinned(site, cdn)) is not None:  # a rollback while learning
        return pinned
    result = _publish(ruleset, cdn=cdn, now=now, note=_note("publish", "scheduled publisher"))
    pin = cdn.get_pin(site)
    if result.changed and pin is not None and pin.get("sha256") != result.sha256:
        # a rollback between the check and the write: its pointer goes back
        keys = ("version", "url", "sha256", "published_at")
        latest: dict[str, Any] = {k: pin[k] for k in keys if k in pin}
        note = _note("rollback", f"{pin.get('pinned_by', 'unknown')}, restored after a publish")
        # stamped a microsecond later: history sorts by stamp, and this comes after the publish
        later = _stamp(now + timedelta(microseconds=1))
        path = cdn.put_pointer(site, latest, stamp=later, note=note)
        cdn.invalidate([f"/{path}"])
        version = pin.get("version")
        reason = f"pinned to {version} by a rollback (its pointer restored after this publish)"
        return PublishResult(site, False, pin.get("sha256"), version, reason)
    for record in live_weights(ruleset, now=now):
        counters.record_weights(site, record)  # a write only when they changed
    return result


def _pinned(site: str, cdn: Cdn) -> PublishResult | None:
    """The answer of a publish on a site a rollback pinned, or None when it is not."""
    pin = cdn.get_pin(site)
    if pin is None:
        return None
    version = pin.get("version")
    return PublishResult(
        site, False, pin.get("sha256"), version, f"pinned to {version} by a rollback"
    )


def live_weights(ruleset: Ruleset, *, now: datetime) -> list[WeightsRecord]:
    """The variant weights each split experience runs with: learned, else declared."""
    at = int(now.timestamp())
    out = []
    for experience in ruleset.experiences:
        if len(experience.variants) < 2:
            continue
        weights = ruleset.learned.weights.get(experience.id) or [
            v.weight for v in experience.variants
        ]
        if len(weights) != len(experience.variants):
            continue
        ids = [v.id for v in experience.variants]
        out.append(WeightsRecord(experience.id, at, dict(zip(ids, weights, strict=True))))
    return out


def deploy_ruleset(
    ruleset: Ruleset,
    *,
    cdn: Cdn,
    now: datetime,
    source: str | None = None,
    by: str | None = None,
) -> PublishResult:
    """Publish a freshly compiled ruleset, keeping the current learned params that fit.

    Clears a rollback's pin; paused experiences stay out.
    """
    current = _current_ruleset(ruleset.site, cdn)
    if current is not None:
        ruleset = dataclasses.replace(ruleset, learned=merge_learned(ruleset, current.learned))
    if source is not None:
        cdn.put_source(ruleset.site, source)  # the scheduled publisher starts from it
    if cdn.get_pin(ruleset.site) is not None:
        cdn.put_pin(ruleset.site, None)
    ruleset = _without(ruleset, cdn.get_paused(ruleset.site))
    return _publish(ruleset, cdn=cdn, now=now, note=_note("deploy", by))


def preview_ruleset(ruleset: Ruleset, *, cdn: Cdn) -> PublishResult:
    """Upload the artifact `deploy_ruleset` would publish, and nothing else.

    The same learned params and paused experiences as a deploy, so the preview shows what
    the deploy will; the pointer, history, source and pin are left alone, so visitors keep
    the live version and the scheduled publisher never sees the preview. `changed` is
    False when the preview is the live artifact itself.
    """
    current = _current_ruleset(ruleset.site, cdn)
    if current is not None:
        ruleset = dataclasses.replace(ruleset, learned=merge_learned(ruleset, current.learned))
    artifact = encode(_without(ruleset, cdn.get_paused(ruleset.site)))
    live = (cdn.get_pointer(ruleset.site) or {}).get("sha256")
    # content-addressed and immutable: writing it again is harmless, and nothing to invalidate
    cdn.put_artifact(ruleset.site, artifact.sha256, artifact.data)
    return PublishResult(
        ruleset.site,
        artifact.sha256 != live,
        artifact.sha256,
        artifact.version,
        "preview" if artifact.sha256 != live else "the live version",
        None,
        artifact.size,
    )


def set_paused(
    site: str,
    experience: str,
    *,
    paused: bool,
    cdn: Cdn,
    now: datetime,
    by: str | None = None,
) -> PublishResult:
    """Turn one experience off (or back on) and republish at once."""
    pin = cdn.get_pin(site)
    # pinned by a rollback: the rolled-back artifact is the whole ruleset, not the source
    full = _base_ruleset(site, cdn) if pin is None else _ruleset_at(site, pin.get("sha256"), cdn)
    if full is None:
        raise PublishError(f"site {site!r} has no deployed ruleset; deploy one first.")
    if pin is None:
        current = _current_ruleset(site, cdn)
        if current is not None:
            full = dataclasses.replace(full, learned=merge_learned(full, current.learned))
    names = cdn.get_paused(site)
    if paused and experience not in {e.id for e in full.experiences}:
        known = ", ".join(e.id for e in full.experiences) or "none"
        raise PublishError(
            f"experience {experience!r} is not in the live ruleset of {site!r} (known: {known})."
        )
    if not paused and experience not in names:
        raise PublishError(f"experience {experience!r} of {site!r} is not paused.")
    names = sorted(set(names) | {experience}) if paused else [n for n in names if n != experience]
    cdn.put_paused(site, names)
    command = "pause" if paused else "resume"
    return _publish(_without(full, names), cdn=cdn, now=now, note=_note(command, by))


def rollback_site(
    site: str, *, cdn: Cdn, now: datetime, to: str | None = None, by: str | None = None
) -> PublishResult:
    """Point `latest.json` back at an earlier artifact (default: the one live before the last
    change a person made)."""
    history = cdn.history(site)
    if not history:
        raise PublishError(f"site {site!r} has no published history to roll back to.")
    current = (cdn.get_pointer(site) or {}).get("sha256")
    target = _rollback_target(history, current, to, site)
    data = cdn.get_artifact(site, str(target["sha256"]))
    if data is None:
        raise PublishError(
            f"version {target.get('version')} of {site!r} is in the history but its artifact "
            "is gone from the bucket."
        )
    latest = {k: target[k] for k in ("version", "url", "sha256")}
    latest["published_at"] = _iso(now)
    # the pin keeps the scheduled publisher from recompiling the newer source over it
    cdn.put_pin(site, {**latest, "pinned_by": by or "unknown"})
    if target["sha256"] == current:
        return PublishResult(site, False, current, target.get("version"), "already current")
    path = cdn.put_pointer(site, latest, stamp=_stamp(now), note=_note("rollback", by))
    cdn.invalidate([f"/{path}"])
    return PublishResult(
        site, True, latest["sha256"], latest["version"], "rolled back", latest, len(data)
    )


def _rollback_target(
    history: list[dict[str, Any]], current: str | None, to: str | None, site: str
) -> dict[str, Any]:
    newest_first = history[::-1]
    if to is not None:
        wanted = to.strip().lower()
        for entry in newest_first:
            sha, version = str(entry.get("sha256", "")), str(entry.get("version", ""))
            if wanted in (sha, version) or (len(wanted) >= 6 and sha.startswith(wanted)):
                return entry
        known = ", ".join(dict.fromkeys(str(e.get("version")) for e in newest_first))
        raise PublishError(f"version {to!r} is not in the history of {site!r} (known: {known}).")
    # Undo the last change a person made (deploy, pause, resume, rollback): the version
    # live just before it. The scheduled publisher's re-weightings since then belong to
    # that change; "the pointer before the live one" would often be a minute-old
    # re-weighting of the very ruleset being rolled back.
    last_change = next(
        (i for i, e in enumerate(newest_first) if e.get("command") not in (None, "publish")),
        None,
    )
    before = [] if last_change is None else newest_first[last_change + 1 :]
    for entry in [*before, *newest_first]:  # else: the pointer before the live one
        if entry.get("sha256") != current:
            return entry
    raise PublishError(
        f"site {site!r} has only ever published one version; nothing to roll back to."
    )


def _note(command: str, by: str | None) -> dict[str, str]:
    return {"command": command, "deployed_by": by or "unknown"}


def live_ruleset(site: str, cdn: Cdn) -> Ruleset | None:
    """The ruleset the pointer names, or None (nothing published, artifact unreadable)."""
    return _current_ruleset(site, cdn)


def without_paused(ruleset: Ruleset, cdn: Cdn) -> Ruleset:
    """`ruleset` as a publish would ship it: less the site's paused experiences."""
    return _without(ruleset, cdn.get_paused(ruleset.site))


def _without(ruleset: Ruleset, paused: list[str]) -> Ruleset:
    """`ruleset` less its paused experiences (visitors see the page's defaults there)."""
    if not paused:
        return ruleset
    off = set(paused)
    kept = tuple(e for e in ruleset.experiences if e.id not in off)
    return dataclasses.replace(ruleset, experiences=kept)


def _publish(
    ruleset: Ruleset, *, cdn: Cdn, now: datetime, note: dict[str, str] | None = None
) -> PublishResult:
    artifact = encode(ruleset)
    site = ruleset.site
    current = cdn.get_pointer(site)
    if current is not None and current.get("sha256") == artifact.sha256:
        return PublishResult(
            site, False, artifact.sha256, artifact.version, "unchanged", current, artifact.size
        )
    latest = pointer(artifact, site=site, published_at=_iso(now))
    path = cdn.put_release(
        site, artifact.sha256, artifact.data, latest, stamp=_stamp(now), note=note
    )
    cdn.invalidate([f"/{path}"])
    return PublishResult(
        site, True, artifact.sha256, artifact.version, "published", latest, artifact.size
    )


def _base_ruleset(site: str, cdn: Cdn) -> Ruleset | None:
    source = cdn.get_source(site)
    if source is not None:
        result = compile_text(source, filename=f"sources/{site}/ruleset.yaml")
        if result.ruleset is not None and not result.problems:
            return result.ruleset
    # No usable source: learn on top of the last compiled ruleset.
    current = _current_ruleset(site, cdn)
    return None if current is None else dataclasses.replace(current, learned=Learned())


def _current_ruleset(site: str, cdn: Cdn) -> Ruleset | None:
    latest = cdn.get_pointer(site)
    return _ruleset_at(site, None if latest is None else latest.get("sha256"), cdn)


def _ruleset_at(site: str, sha: object, cdn: Cdn) -> Ruleset | None:
    if not isinstance(sha, str):
        return None
    data = cdn.get_artifact(site, sha)
    if data is None:
        return None
    try:
        return load(data, sha256=sha)
    except ArtifactError:
        return None


def _arm(snapshot: Snapshot, experience: str, variant: str, goals: tuple[str, ...]) -> Arm:
    counts = snapshot.variants.get((experience, variant), {})
    exposed = int(counts.get("visitors", 0))
    if goals:
        # The primary goal (the first listed) drives the bandit.
        converted = int(counts.get(f"u:{goals[0]}", 0))
    else:
        converted = int(max((v for k, v in counts.items() if k.startswith("u:")), default=0))
    return Arm(exposed=exposed, conversions=min(converted, exposed))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
