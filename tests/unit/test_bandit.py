"""Thompson sampling allocations: floor, minimum sample, seeded determinism."""

from __future__ import annotations

import pytest

from lambdas.logic.bandit import Arm, thompson_weights


def test_better_variant_gets_more_traffic() -> None:
    arms = [Arm(2000, 40), Arm(2000, 120)]  # 2% vs 6%
    weights = thompson_weights(arms, current=[0.5, 0.5], seed="s:x")
    assert weights[1] > 0.9
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)


def test_floor_keeps_exploring_a_clear_loser() -> None:
    arms = [Arm(5000, 10), Arm(5000, 500), Arm(5000, 20)]
    weights = thompson_weights(arms, current=[1 / 3] * 3, seed="s:x", floor=0.05)
    assert min(weights) == pytest.approx(0.05, abs=1e-4)
    assert all(w >= 0.05 - 1e-9 for w in weights)
    assert weights[1] == pytest.approx(1 - 2 * 0.05, abs=1e-4)


def test_nothing_moves_before_the_minimum_sample() -> None:
    # Given one variant still under 100 exposed visitors
    arms = [Arm(5000, 500), Arm(99, 0)]
    # When the bandit runs, then the current weights stand (normalized)
    assert thompson_weights(arms, current=[0.7, 0.3], seed="s:x", min_exposed=100) == [0.7, 0.3]
    # And once every variant reaches the minimum, they move
    moved = thompson_weights([Arm(5000, 500), Arm(100, 0)], current=[0.7, 0.3], seed="s:x")
    assert moved != [0.7, 0.3]


def test_same_counts_same_weights_different_seed_may_differ() -> None:
    arms = [Arm(400, 20), Arm(400, 24)]  # close: the draws decide
    first = thompson_weights(arms, current=[0.5, 0.5], seed="demo:exp")
    again = thompson_weights(arms, current=[0.5, 0.5], seed="demo:exp")
    assert first == again
    others = {tuple(thompson_weights(arms, current=[0.5, 0.5], seed=f"demo:{i}")) for i in range(5)}
    assert len(others) > 1  # the seed really drives the draws


def test_equal_arms_split_evenly_within_noise() -> None:
    weights = thompson_weights([Arm(1000, 50), Arm(1000, 50)], current=[0.5, 0.5], seed="e")
    assert weights[0] == pytest.approx(0.5, abs=0.05)


def test_conversions_above_exposed_are_capped_and_bad_floor_refused() -> None:
    weights = thompson_weights([Arm(100, 500), Arm(100, 0)], current=[0.5, 0.5], seed="c")
    assert weights[0] > weights[1]
    with pytest.raises(ValueError, match=r"floor 0\.6 is impossible for 2 variants"):
        thompson_weights([Arm(100, 1), Arm(100, 1)], current=[0.5, 0.5], seed="c", floor=0.6)
    with pytest.raises(ValueError, match="2 arms but 1 current weights"):
        thompson_weights([Arm(100, 1), Arm(100, 1)], current=[1.0], seed="c")


def test_single_variant_and_zero_current() -> None:
    assert thompson_weights([Arm(0, 0)], current=[1.0], seed="x") == [1.0]
    assert thompson_weights([Arm(1, 0), Arm(1, 0)], current=[0.0, 0.0], seed="x") == [0.5, 0.5]
