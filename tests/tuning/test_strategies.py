"""Random and Grid strategies, ``make_strategy`` and trial bookkeeping."""

from __future__ import annotations

import math
import statistics

import pytest

from sagebox.tuning import (
    CategoricalRange,
    ContinuousRange,
    GridStrategy,
    IntegerRange,
    RandomStrategy,
    SearchSpace,
    TrialError,
    TuningConfigError,
    make_strategy,
)
from sagebox.tuning.base import trial_id

SPACE = SearchSpace([
    IntegerRange("depth", 1, 1000, "Logarithmic"),
    ContinuousRange("rate", 1e-5, 1.0, "Logarithmic"),
    ContinuousRange("momentum", 0.0, 0.999, "ReverseLogarithmic"),
    ContinuousRange("fraction", 0.5, 1.0, "Linear"),
    CategoricalRange("booster", ("gbtree", "dart", "gblinear")),
])
GRID = SearchSpace([CategoricalRange("a", ("x", "y", "z")), CategoricalRange("b", ("1", "2"))])


def _random(seed: int | None = 3, max_jobs: int | None = None) -> RandomStrategy:
    strategy = make_strategy("Random", SPACE, objective_type="Minimize", seed=seed, max_jobs=max_jobs)
    assert isinstance(strategy, RandomStrategy)
    return strategy


def _suggestions(strategy: RandomStrategy, count: int) -> list[dict[str, str]]:
    found = []
    for _ in range(count):
        suggestion = strategy.suggest()
        assert suggestion is not None
        found.append(suggestion.hyperparameters)
    return found


def test_random_is_reproducible_for_a_seed() -> None:
    assert _suggestions(_random(11), 20) == _suggestions(_random(11), 20)
    assert _suggestions(_random(11), 20) != _suggestions(_random(12), 20)


def test_random_without_seed_differs_between_jobs() -> None:
    assert _suggestions(_random(None), 5) != _suggestions(_random(None), 5)


def test_random_respects_bounds_and_scalings() -> None:
    draws = _suggestions(_random(5), 3000)
    depth = [int(d["depth"]) for d in draws]
    rate = [float(d["rate"]) for d in draws]
    momentum = [float(d["momentum"]) for d in draws]
    fraction = [float(d["fraction"]) for d in draws]
    assert min(depth) >= 1 and max(depth) <= 1000
    assert min(rate) >= 1e-5 and max(rate) <= 1.0
    assert min(momentum) >= 0.0 and max(momentum) <= 0.999
    assert min(fraction) >= 0.5 and max(fraction) <= 1.0
    # medians of a log-uniform draw sit at the geometric middle of the range
    assert math.log10(statistics.median(rate)) == pytest.approx(-2.5, abs=0.12)
    assert statistics.median(depth) == pytest.approx(22.4, rel=0.2)
    assert math.log10(1 - statistics.median(momentum)) == pytest.approx(-1.5, abs=0.12)
    assert statistics.median(fraction) == pytest.approx(0.75, abs=0.02)
    assert {d["booster"] for d in draws} == {"gbtree", "dart", "gblinear"}


def test_random_stops_after_max_jobs_and_numbers_its_trials() -> None:
    strategy = _random(max_jobs=3)
    ids = [s.trial_id for s in iter(strategy.suggest, None)]
    assert ids == ["001", "002", "003"]
    assert strategy.suggest() is None
    assert trial_id(1234) == "1234"


def test_observe_checks_the_trial() -> None:
    strategy = _random()
    suggestion = strategy.suggest()
    assert suggestion is not None and suggestion.resource is None
    with pytest.raises(TrialError, match="Trial '999': was never suggested"):
        strategy.observe("999", 1.0)
    strategy.observe(suggestion.trial_id, None)
    with pytest.raises(TrialError, match="has already ended"):
        strategy.observe(suggestion.trial_id, 1.0)


def test_grid_enumerates_every_combination_exactly_once_then_stops() -> None:
    strategy = make_strategy("Grid", GRID, objective_type="Maximize", seed=None, max_jobs=None)
    assert isinstance(strategy, GridStrategy)
    seen = []
    while (suggestion := strategy.suggest()) is not None:
        seen.append(tuple(sorted(suggestion.hyperparameters.items())))
        strategy.observe(suggestion.trial_id, 0.5)
    assert len(seen) == 6 and len(set(seen)) == 6
    assert seen[0] == (("a", "x"), ("b", "1")) and seen[-1] == (("a", "z"), ("b", "2"))
    assert strategy.suggest() is None


def test_grid_order_does_not_depend_on_the_seed() -> None:
    first = make_strategy("Grid", GRID, objective_type="Minimize", seed=1, max_jobs=6)
    second = make_strategy("Grid", GRID, objective_type="Minimize", seed=2, max_jobs=6)
    assert [first.suggest() for _ in range(7)] == [second.suggest() for _ in range(7)]


def test_grid_max_jobs_must_match_the_number_of_combinations() -> None:
    with pytest.raises(TuningConfigError) as caught:
        make_strategy("Grid", GRID, objective_type="Minimize", seed=None, max_jobs=5)
    assert caught.value.member == "ResourceLimits.MaxNumberOfTrainingJobs"
    assert "give 6 or leave it out" in caught.value.problem


def test_grid_rejects_numeric_ranges() -> None:
    with pytest.raises(TuningConfigError, match="IntegerParameterRanges \\('depth'\\)"):
        make_strategy("Grid", SPACE, objective_type="Minimize", seed=None, max_jobs=None)


@pytest.mark.parametrize(
    ("name", "kwargs", "member"),
    [
        ("Annealing", {}, "HyperParameterTuningJobConfig.Strategy"),
        ("Random", {"objective_type": "Minimise"}, "HyperParameterTuningJobObjective.Type"),
        ("Random", {"max_jobs": 0}, "ResourceLimits.MaxNumberOfTrainingJobs"),
        ("Random", {"seed": -1}, "HyperParameterTuningJobConfig.RandomSeed"),
        ("Bayesian", {"hyperband": {"MaxResource": 10}}, "HyperParameterTuningJobConfig.StrategyConfig"),
        ("Hyperband", {}, "HyperbandStrategyConfig.MaxResource"),
    ],
)
def test_make_strategy_rejects_invalid_configurations(name: str, kwargs: dict, member: str) -> None:
    arguments = {"objective_type": "Minimize", "seed": None, "max_jobs": 10, **kwargs}
    with pytest.raises(TuningConfigError) as caught:
        make_strategy(name, SPACE, **arguments)
    assert caught.value.member == member
