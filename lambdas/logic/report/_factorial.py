"""A multivariate experience's main effects and two-way interactions, from the counters of
its combinations (each combination is a variant: level ids joined by "." in factor order).

The model, per goal: a logistic regression of "the visitor converted" on the combination,
fitted by maximum likelihood to the aggregated counts (per combination: visitors n,
converting visitors x; `lambdas.logic.regression`), with an intercept, each non-reference
level of each factor as a dummy (the first level is the reference), and the products of
two factors' dummies (the two-way interactions) that the design can estimate.

Why this model and these estimands:
- a visitor converts or not, so the binomial likelihood is the right one, and the logit
  keeps every fitted rate in (0, 1) whatever the effects; the counters (n, x per
  combination) are exactly its sufficient statistics, so nothing is lost by aggregating;
- the **main effect** of a level is its log odds ratio against the reference level,
  averaged with equal weights over the levels of the other factors (the classical
  factorial main effect). With interactions in the model, the dummy's own coefficient is
  only the effect at the other factors' reference levels; the average answers "which
  element carries the effect" for every page the visitors saw. Without interactions the two
  coincide;
- an **interaction** (f=a x g=b) is the dummy product's coefficient: how much the log odds
  ratio of f=a (against f's reference) changes when g is at b rather than at its reference.
  Zero means the two elements act independently (on the odds scale);
- a fractional design runs some combinations only, and there some interactions cannot be
  told apart from other effects (aliased): a term is kept only if its columns add new
  directions to those of the terms before it (intercept, main effects, interactions in
  factor order), checked with effect (+1/-1) coding, where an alias reads as an identity
  (headline x button = banner). The dropped terms are named and assumed zero.

Intervals and p-values are the report's kind: fixed-horizon Wald (z) or sequential, the
same normal-mixture boundary as the A/B comparisons (`stats.sequential_boundary`) on the
Wald statistic, with n all the experience's visitors. Odds ratios are shown because they
are what the model estimates; for conversion rates of a few percent they are close to the
ratio of rates.

>>> factors = (Factor("h", "hero", ("default", "short")), Factor("b", "cta", ("default", "bold")))
>>> counts = {("default", "default"): (1000, 100), ("short", "default"): (1000, 150),
...           ("default", "bold"): (1000, 100), ("short", "bold"): (1000, 150)}
>>> effects = fit_effects(factors, counts, goal="buy", options=Options(kind="fixed_horizon"))
>>> [(e.label, round(e.odds_ratio, 3)) for e in effects.main_effects]
[('h=short', 1.588), ('b=bold', 1.0)]
>>> [(e.label, round(e.odds_ratio, 3)) for e in effects.interactions]
[('h=short × b=bold', 1.0)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from lambdas.logic.regression import RegressionError, logistic_fit, new_directions, solve
from lambdas.logic.report._cells import Cells
from lambdas.logic.report._compare import Options, counts
from lambdas.logic.stats import sequential_boundary
from lambdas.models.report import Effect, Factor, FactorEffects, MultivariateReport

__all__ = [
    "MODEL",
    "combination_of",
    "factors_of",
    "fit_effects",
    "multivariate_report",
    "reference_combination",
]

MODEL = (
    "logistic regression on the counts per combination: intercept, each level against its "
    "factor's first level, and the two-way interactions the design can estimate. A main "
    "effect is the level's odds ratio against the reference, averaged over the other "
    "factors' levels; an interaction is how much one level's odds ratio changes with the "
    "other factor's level (1 = no interaction)."
)
_NORMAL = NormalDist()
_ALIAS_TOL = 1e-6

Combination = tuple[str, ...]  # one level id per factor, in factor order


@dataclass(frozen=True, slots=True)
class _Term:
    """A group of design columns: a factor's levels, or two factors' level pairs."""

    factors: tuple[int, ...]  # factor indices (one or two)
    columns: tuple[tuple[int, ...], ...]  # per column, the level index of each factor

    def name(self, factors: Sequence[Factor]) -> str:
        return " × ".join(factors[i].id for i in self.factors)


def factors_of(spec: Mapping[str, Any]) -> tuple[Factor, ...]:
    """The artifact's factors (`[{id, slot, levels: [{id, content}]}]`); () when malformed.

    >>> factors_of({"factors": [{"id": "h", "slot": "hero", "levels": [{"id": "a"}, {"id": "b"}]}]})
    (Factor(id='h', slot='hero', levels=('a', 'b')),)
    """
    out = []
    for item in spec.get("factors") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("levels"), list):
            return ()
        levels = tuple(str(lv.get("id")) for lv in item["levels"] if isinstance(lv, Mapping))
        if len(levels) < 2:
            return ()
        out.append(Factor(str(item.get("id")), str(item.get("slot") or ""), levels))
    return tuple(out)


def combination_of(variant: str, factors: Sequence[Factor]) -> Combination | None:
    """A variant id's levels, or None when it names no combination of these factors.

    >>> combination_of("short.bold", (Factor("h", "hero", ("default", "short")),
    ...                               Factor("b", "cta", ("default", "bold"))))
    ('short', 'bold')
    """
    levels = tuple(variant.split("."))
    if len(levels) != len(factors):
        return None
    if any(lv not in f.levels for lv, f in zip(levels, factors, strict=True)):
        return None
    return levels


def reference_combination(factors: Sequence[Factor]) -> str:
    """The variant id of the combination of every factor's first level (the control)."""
    return ".".join(f.levels[0] for f in factors)


def multivariate_report(
    spec: Mapping[str, Any],
    cells: Cells,
    *,
    goals: Sequence[str],
    options: Options,
) -> MultivariateReport:
    """The factors and, per goal, the effects fitted on the counters of the combinations."""
    exp_id = str(spec["id"])
    factors = factors_of(spec)
    design = {
        combo: str(v["id"])
        for v in spec.get("variants") or []
        if (combo := combination_of(str(v.get("id")), factors)) is not None
    }
    per_goal = {}
    for goal in goals:
        observed = {}
        for combo, variant in design.items():
            mine, _ = counts(cells.total(exp_id, variant), goal)
            observed[combo] = (mine.visitors, mine.conversions)
        per_goal[goal] = fit_effects(factors, observed, goal=goal, options=options)
    return MultivariateReport(factors, len(design), per_goal, MODEL)


def fit_effects(
    factors: Sequence[Factor],
    observed: Mapping[Combination, tuple[int, int]],
    *,
    goal: str,
    options: Options,
) -> FactorEffects:
    """Main effects and estimable two-way interactions on one goal.

    `observed` maps each combination of the design to (visitors, converting visitors).
    """
    if not factors:
        return FactorEffects(goal, note="the experience declares no usable factors")
    index = [{level: i for i, level in enumerate(f.levels)} for f in factors]
    design = [tuple(index[k][lv] for k, lv in enumerate(c)) for c in observed]
    mains, pairs = _terms(factors)
    kept, aliased = _estimable(design, mains, pairs, factors)
    rates = _Rates(factors, observed)
    bare = tuple(rates.main(k, lv) for k, f in enumerate(factors) for lv in f.levels[1:])
    if kept is None:
        note = (
            "the design's combinations cannot separate the factors' main effects "
            "(too few combinations, or aliased main effects)"
        )
        return FactorEffects(goal, bare, aliased=aliased, note=note)
    missing = [".".join(c) for c in observed if observed[c][0] == 0]
    if missing:
        note = f"not estimable yet: no visitors in {', '.join(missing)}"
        return FactorEffects(goal, bare, aliased=aliased, note=note)
    try:
        fit = logistic_fit(
            [[1.0, *(v for t in kept for v in _treatment(t, d))] for d in design],
            successes=[x for _, x in observed.values()],
            trials=[n for n, _ in observed.values()],
        )
    except RegressionError:
        silent = [".".join(c) for c, (n, x) in observed.items() if x in (0, n)]
        note = (
            "not estimable yet: every combination needs converting and non-converting "
            f"visitors (not yet: {', '.join(silent)})"
            if silent
            else "the model could not be fitted to these counts"
        )
        return FactorEffects(goal, bare, aliased=aliased, note=note)
    visitors = sum(n for n, _ in observed.values())  # the sequential boundary's n
    position = _positions(kept)
    interactions = kept[len(factors) :]
    main_effects = []
    for base in bare:
        ((name, level),) = base.terms
        k = next(i for i, f in enumerate(factors) if f.id == name)
        weights = _main_contrast(k, index[k][level], interactions, factors, position)
        estimate, se = fit.contrast(weights)
        main_effects.append(_with_test(base, estimate, se, visitors, options))
    pair_effects = []
    for term in interactions:
        a, b = term.factors
        for levels in term.columns:
            pair = ((factors[a].id, factors[a].levels[levels[0]]),
                    (factors[b].id, factors[b].levels[levels[1]]))  # fmt: skip
            estimate, se = fit.contrast(_unit(position[(term.factors, levels)], len(position) + 1))
            base = Effect(pair, visitors=rates.both(pair), alpha=options.alpha)
            pair_effects.append(_with_test(base, estimate, se, visitors, options))
    return FactorEffects(goal, tuple(main_effects), tuple(pair_effects), aliased)


def _terms(factors: Sequence[Factor]) -> tuple[list[_Term], list[_Term]]:
    """The main-effect terms (one per factor), then the two-way ones in factor order."""
    mains = [
        _Term((k,), tuple((lv,) for lv in range(1, len(f.levels)))) for k, f in enumerate(factors)
    ]
    pairs = [
        _Term(
            (a, b),
            tuple(
                (i, j)
                for i in range(1, len(factors[a].levels))
                for j in range(1, len(factors[b].levels))
            ),
        )
        for a in range(len(factors))
        for b in range(a + 1, len(factors))
    ]
    return mains, pairs


def _positions(terms: Sequence[_Term]) -> dict[tuple[tuple[int, ...], tuple[int, ...]], int]:
    """Each column's index in the coefficients (0 is the intercept)."""
    columns = [(t.factors, levels) for t in terms for levels in t.columns]
    return {column: i for i, column in enumerate(columns, start=1)}


def _main_contrast(
    k: int,
    level: int,
    interactions: Sequence[_Term],
    factors: Sequence[Factor],
    position: Mapping[tuple[tuple[int, ...], tuple[int, ...]], int],
) -> list[float]:
    """Weights of the coefficients whose sum is level's log odds ratio against factor k's
    reference, averaged over the other factors' levels: its dummy at the others' references,
    plus each interaction with another factor g at level j, on the 1 / (levels of g) of the
    pages where g is at j."""
    weights = _unit(position[((k,), (level,))], len(position) + 1)
    for term in interactions:
        if k not in term.factors:
            continue
        mine = term.factors.index(k)
        other = term.factors[1 - mine]
        for levels in term.columns:
            if levels[mine] == level:
                weights[position[(term.factors, levels)]] = 1.0 / len(factors[other].levels)
    return weights


def _unit(index: int, width: int) -> list[float]:
    return [1.0 if i == index else 0.0 for i in range(width)]


def _estimable(
    design: Sequence[tuple[int, ...]],
    mains: Sequence[_Term],
    pairs: Sequence[_Term],
    factors: Sequence[Factor],
) -> tuple[list[_Term] | None, tuple[str, ...]]:
    """The terms the design can estimate (None if not every main effect), and a sentence
    for each interaction it cannot (aliased with which earlier terms)."""
    kept: list[_Term] = []
    rows = [[1.0] for _ in design]
    for term in mains:
        grown = [r + _effect(term, d) for r, d in zip(rows, design, strict=True)]
        if len(new_directions(grown)) < len(grown[0]):
            return None, ()
        rows, kept = grown, [*kept, term]
    sentences = []
    for term in pairs:
        grown = [r + _effect(term, d) for r, d in zip(rows, design, strict=True)]
        if len(new_directions(grown)) == len(grown[0]):
            rows, kept = grown, [*kept, term]
            continue
        others = _aliases(rows, [_effect(term, d) for d in design], kept, factors)
        partly = len(new_directions(grown)) > len(rows[0])
        with_what = ", ".join(others) if others else "the intercept"
        sentences.append(
            f"{term.name(factors)} is {'partly ' if partly else ''}aliased with {with_what} "
            "(the design cannot tell them apart: it is assumed to be zero)"
        )
    return kept, tuple(sentences)


def _aliases(
    rows: Sequence[Sequence[float]],
    target: Sequence[Sequence[float]],
    kept: Sequence[_Term],
    factors: Sequence[Factor],
) -> list[str]:
    """The kept terms whose columns reproduce the dropped term's first column (least
    squares on the effect-coded design), by name."""
    width = len(rows[0])
    gram = [
        [math.fsum(r[i] * r[j] for r in rows) + (1e-12 if i == j else 0.0) for j in range(width)]
        for i in range(width)
    ]
    rhs = [math.fsum(r[i] * t[0] for r, t in zip(rows, target, strict=True)) for i in range(width)]
    try:
        coefficients = solve(gram, rhs)
    except RegressionError:
        return []
    names = []
    column = 1
    for term in kept:
        span = coefficients[column : column + len(term.columns)]
        column += len(term.columns)
        if any(abs(c) > _ALIAS_TOL for c in span):
            names.append(term.name(factors))
    return names


def _effect(term: _Term, combo: tuple[int, ...]) -> list[float]:
    """Effect coding: +1 at the level, -1 at the reference, 0 at another level (products
    for an interaction)."""
    out = []
    for levels in term.columns:
        value = 1.0
        for factor, level in zip(term.factors, levels, strict=True):
            mine = combo[factor]
            value *= 1.0 if mine == level else -1.0 if mine == 0 else 0.0
        out.append(value)
    return out


def _treatment(term: _Term, combo: tuple[int, ...]) -> list[float]:
    """Dummy coding: 1 when every factor of the term is at the column's level."""
    return [
        1.0 if all(combo[f] == lv for f, lv in zip(term.factors, levels, strict=True)) else 0.0
        for levels in term.columns
    ]


class _Rates:
    """Converting share of the visitors shown a level (or two), over every combination."""

    def __init__(
        self, factors: Sequence[Factor], observed: Mapping[Combination, tuple[int, int]]
    ) -> None:
        self.factors = factors
        self.observed = observed

    def _sum(self, wanted: Mapping[int, str]) -> tuple[int, int]:
        n = x = 0
        for combo, (visitors, converted) in self.observed.items():
            if all(combo[k] == lv for k, lv in wanted.items()):
                n, x = n + visitors, x + converted
        return n, x

    def main(self, k: int, level: str) -> Effect:
        n, x = self._sum({k: level})
        ref_n, ref_x = self._sum({k: self.factors[k].levels[0]})
        return Effect(
            ((self.factors[k].id, level),),
            visitors=n,
            rate=x / n if n else None,
            reference_rate=ref_x / ref_n if ref_n else None,
        )

    def both(self, pair: tuple[tuple[str, str], ...]) -> int:
        ids = [f.id for f in self.factors]
        return self._sum({ids.index(f): lv for f, lv in pair})[0]


def _with_test(base: Effect, estimate: float, se: float, visitors: int, options: Options) -> Effect:
    if se <= 0:
        return Effect(base.terms, estimate, None, None, None, base.visitors, base.rate,
                      base.reference_rate, options.alpha)  # fmt: skip
    z = estimate / se
    if options.kind == "sequential":
        multiplier, p = sequential_boundary(
            z, visitors=visitors, expected_visitors=options.expected_visitors, alpha=options.alpha
        )
    else:
        multiplier = _NORMAL.inv_cdf(1 - options.alpha / 2)
        p = math.erfc(abs(z) / math.sqrt(2.0))
    return Effect(
        base.terms,
        estimate,
        se,
        (estimate - multiplier * se, estimate + multiplier * se),
        p,
        base.visitors,
        base.rate,
        base.reference_rate,
        options.alpha,
    )
