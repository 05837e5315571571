"""Experience rows summed over shards: per variant, per variant and day, per variant and
breakdown cell (the report's three views of one set of counters).

>>> from lambdas.models.counters import Add
>>> rows = [Add("X", "k", {"exp": "x", "var": "a", "day": "2026-11-20"}, {"visitors": 2.0}),
...         Add("X", "k", {"exp": "x", "var": "a", "day": "2026-11-21"}, {"visitors": 1.0})]
>>> cells = fold_cells(rows, since="2026-11-21")
>>> cells.totals[("x", "a")], cells.days[("x", "a")]
({'visitors': 1.0}, {'2026-11-21': {'visitors': 1.0}})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lambdas.models.counters import Add, Dims

__all__ = ["Cells", "Counters", "fold_cells"]

Counters = dict[str, float]
Pair = tuple[str, str]  # (experience, variant)


@dataclass(slots=True)
class Cells:
    totals: dict[Pair, Counters] = field(default_factory=dict)
    days: dict[Pair, dict[str, Counters]] = field(default_factory=dict)
    dims: dict[Pair, dict[Dims, Counters]] = field(default_factory=dict)

    def total(self, experience: str, variant: str) -> Counters:
        return self.totals.get((experience, variant), {})

    def variants_of(self, experience: str) -> list[str]:
        return sorted(v for e, v in self.totals if e == experience)

    def names(self, experience: str) -> set[str]:
        """Conversion names counted for the experience (`c:<name>` / `u:<name>`)."""
        return {
            key[2:]
            for (e, _), counters in self.totals.items()
            if e == experience
            for key in counters
            if key[:2] in ("c:", "u:")
        }


def fold_cells(rows: Iterable[Add], *, since: str | None = None) -> Cells:
    """Sum rows (any shard, any order) into the three views; days before `since` are left out."""
    cells = Cells()
    for row in rows:
        labels = row.labels
        experience, variant, day = labels.get("exp"), labels.get("var"), labels.get("day")
        if not experience or not variant or not day or (since is not None and day < since):
            continue
        pair = (experience, variant)
        _merge(cells.totals.setdefault(pair, {}), row.deltas)
        _merge(cells.days.setdefault(pair, {}).setdefault(day, {}), row.deltas)
        dims = Dims.from_labels(labels)
        _merge(cells.dims.setdefault(pair, {}).setdefault(dims, {}), row.deltas)
    return cells


def _merge(target: Counters, deltas: Mapping[str, float]) -> None:
    for name, delta in deltas.items():
        target[name] = target.get(name, 0.0) + float(delta)
