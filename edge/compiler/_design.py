"""The designs of a multivariate experience: which level combinations it runs.

A combination is one level index per factor (0 is the factor's reference level).

- `full`: every combination, the first factor varying slowest.
- `fractional` with a resolution (III, IV or V): a regular 2^(k-p) fraction of a
  two-level full factorial, the one with the fewest runs whose resolution is at least
  the one declared. The first k-p factors (the base) run their full factorial; each
  other factor's level is a generator, a product of base columns in -1/+1 coding (the
  reference level is -1). A generator of even length is negated (I = -ABD instead of
  I = ABD, the same aliasing), so the all-reference run, the control, is always in
  the fraction. Resolution R: no effect of order m is aliased with one of order below
  R - m (III: main effects are clear of each other; IV: of two-factor interactions;
  V: two-factor interactions are clear of each other).

The generators are the minimum-aberration ones tabulated by Box, Hunter & Hunter
(Statistics for Experimenters, 2nd ed., table 6.22), for 3 to 8 factors:

>>> len(full((2, 3))), fractional(4, resolution=4)[:2]
(6, [(0, 0, 0, 0), (0, 0, 1, 1)])
"""

from __future__ import annotations

import itertools
import math

__all__ = ["FRACTIONS", "RESOLUTIONS", "design_size", "fractional", "full"]

RESOLUTIONS = {"III": 3, "IV": 4, "V": 5}
_LETTERS = "ABCDEFGH"

# (factors k, resolution, generators): one generated factor per word, over the base
# factors' letters (the first k - p factors). Fewest runs first for each k.
FRACTIONS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (3, 3, ("AB",)),  # 2^(3-1) III, 4 runs
    (4, 4, ("ABC",)),  # 2^(4-1) IV, 8 runs
    (5, 3, ("AB", "AC")),  # 2^(5-2) III, 8 runs
    (5, 5, ("ABCD",)),  # 2^(5-1) V, 16 runs
    (6, 3, ("AB", "AC", "BC")),  # 2^(6-3) III, 8 runs
    (6, 4, ("ABC", "BCD")),  # 2^(6-2) IV, 16 runs
    (6, 6, ("ABCDE",)),  # 2^(6-1) VI, 32 runs
    (7, 3, ("AB", "AC", "BC", "ABC")),  # 2^(7-4) III, 8 runs
    (7, 4, ("ABC", "BCD", "ACD")),  # 2^(7-3) IV, 16 runs
    (7, 7, ("ABCDEF",)),  # 2^(7-1) VII, 64 runs
    (8, 4, ("BCD", "ACD", "ABC", "ABD")),  # 2^(8-4) IV, 16 runs
    (8, 5, ("ABCD", "ABEF")),  # 2^(8-2) V, 64 runs
)


def full(levels: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every combination of factors with these numbers of levels.

    >>> full((2, 2))
    [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    return list(itertools.product(*(range(n) for n in levels)))


def design_size(levels: tuple[int, ...], resolution: int | None) -> int | None:
    """How many combinations a design runs; None when no fraction of it is tabulated
    (`resolution` None: the full design)."""
    if resolution is None:
        return math.prod(levels)
    generators = _generators(len(levels), resolution)
    if generators is None or any(n != 2 for n in levels):
        return None
    return int(2 ** (len(levels) - len(generators)))


def fractional(factors: int, *, resolution: int) -> list[tuple[int, ...]]:
    """The runs of the smallest tabulated two-level fraction of at least `resolution`
    (`ValueError` when there is none: check `design_size` first)."""
    generators = _generators(factors, resolution)
    if generators is None:
        raise ValueError(f"no tabulated fraction of {factors} factors has resolution {resolution}")
    base = factors - len(generators)
    words = [tuple(_LETTERS.index(letter) for letter in word) for word in generators]
    runs: list[tuple[int, ...]] = []
    for run in itertools.product((-1, 1), repeat=base):
        # Even words are negated: the all-reference run (all -1) stays in the fraction.
        extra = [(-1) ** (len(word) + 1) * math.prod(run[i] for i in word) for word in words]
        runs.append(tuple(0 if x < 0 else 1 for x in (*run, *extra)))
    return runs


def _generators(factors: int, resolution: int) -> tuple[str, ...] | None:
    # The fewest runs (most generators) among the fractions at least as resolved; a
    # fraction's generators count p, and 2^(k-p) runs.
    found = [g for k, r, g in FRACTIONS if k == factors and r >= resolution]
    return max(found, key=len) if found else None
