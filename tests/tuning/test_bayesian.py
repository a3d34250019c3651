"""The Bayesian strategy (Optuna TPE): learning, reproducibility, failures and warm start."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import pytest

from sagebox.tuning import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
    Strategy,
    make_strategy,
)
from sagebox.tuning.bayesian import BayesianStrategy, startup_trials

SPACE = SearchSpace([
    ContinuousRange("x", -5.0, 5.0, "Linear"),
    ContinuousRange("y", -5.0, 5.0, "Linear"),
    ContinuousRange("rate", 1e-4, 1.0, "Logarithmic"),
    IntegerRange("layers", 1, 20, "Linear"),
])


def _shifted_bowl(hp: dict[str, str]) -> float:
    x, y, rate, layers = float(hp["x"]), float(hp["y"]), float(hp["rate"]), int(hp["layers"])
    return (x - 1.3) ** 2 + (y + 2.1) ** 2 + (math.log10(rate) + 2.2) ** 2 + 0.05 * (layers - 7) ** 2


def _best(strategy: Strategy, objective: Callable[[dict[str, str]], float], trials: int) -> float:
    best = math.inf
    for _ in range(trials):
        suggestion = strategy.suggest()
        assert suggestion is not None
        value = objective(suggestion.hyperparameters)
        strategy.observe(suggestion.trial_id, value)
        best = min(best, value)
    return best


def _bayesian(seed: int | None, space: SearchSpace = SPACE, **kwargs: object) -> BayesianStrategy:
    strategy = make_strategy("Bayesian", space, objective_type="Minimize", seed=seed, max_jobs=30, **kwargs)  # type: ignore[arg-type]
    assert isinstance(strategy, BayesianStrategy)
    return strategy


def test_bayesian_beats_random_on_the_median_over_seeds() -> None:
    seeds = range(5)
    bayesian = [_best(_bayesian(seed), _shifted_bowl, 30) for seed in seeds]
    random = [
        _best(make_strategy("Random", SPACE, objective_type="Minimize", seed=seed, max_jobs=30), _shifted_bowl, 30)
        for seed in seeds
    ]
    assert statistics.median(bayesian) < 0.5 * statistics.median(random)


def _history(strategy: Strategy, objective: Callable[[dict[str, str]], float], trials: int) -> list[dict[str, str]]:
    seen = []
    for _ in range(trials):
        suggestion = strategy.suggest()
        assert suggestion is not None
        seen.append(suggestion.hyperparameters)
        strategy.observe(suggestion.trial_id, objective(suggestion.hyperparameters))
    return seen


def test_maximizing_the_negated_objective_searches_exactly_like_minimizing() -> None:
    minimize = make_strategy("Bayesian", SPACE, objective_type="Minimize", seed=0, max_jobs=20)
    maximize = make_strategy("Bayesian", SPACE, objective_type="Maximize", seed=0, max_jobs=20)
    assert _history(minimize, _shifted_bowl, 20) == _history(maximize, lambda hp: -_shifted_bowl(hp), 20)


def test_same_seed_and_objectives_replay_the_same_suggestions() -> None:
    assert _history(_bayesian(4), _shifted_bowl, 12) == _history(_bayesian(4), _shifted_bowl, 12)
    assert _history(_bayesian(4), _shifted_bowl, 12) != _history(_bayesian(5), _shifted_bowl, 12)


def test_failed_trials_are_told_as_failed_and_the_search_goes_on() -> None:
    strategy = _bayesian(1)
    for index in range(15):
        suggestion = strategy.suggest()
        assert suggestion is not None
        objective = None if index % 3 == 0 else _shifted_bowl(suggestion.hyperparameters)
        strategy.observe(suggestion.trial_id, objective if index != 4 else math.nan)
    states = [trial.state.name for trial in strategy._study.trials]
    assert states.count("FAIL") == 6 and states.count("COMPLETE") == 9


def test_parallel_suggestions_differ_and_max_jobs_is_the_limit() -> None:
    strategy = make_strategy("Bayesian", SPACE, objective_type="Minimize", seed=0, max_jobs=4)
    pending = [strategy.suggest() for _ in range(4)]
    assert all(s is not None for s in pending)
    assert len({tuple(s.hyperparameters.items()) for s in pending if s}) == 4
    assert strategy.suggest() is None


def test_values_stay_inside_their_ranges_under_every_scaling() -> None:
    space = SearchSpace([
        ContinuousRange("momentum", 0.9, 0.9999, "ReverseLogarithmic"),
        IntegerRange("units", 1, 4096, "Logarithmic"),
        CategoricalRange("optimizer", ("sgd", "adam")),
    ])
    strategy = make_strategy("Bayesian", space, objective_type="Minimize", seed=2, max_jobs=25)
    momenta = []
    while (suggestion := strategy.suggest()) is not None:
        values = space.parse_values(suggestion.hyperparameters)  # raises if out of range
        momenta.append(float(values["momentum"]))
        strategy.observe(suggestion.trial_id, -math.log10(1 - momenta[-1]) + int(values["units"]) / 4096)
    assert min(momenta) >= 0.9 and max(momenta) <= 0.9999


def test_warm_start_observations_guide_the_first_suggestions() -> None:
    space = SearchSpace([ContinuousRange("x", 0.0, 1.0, "Linear")])

    def objective(x: float) -> float:
        return (x - 0.8) ** 2

    parents = [({"x": repr(i / 19)}, objective(i / 19)) for i in range(20)]
    parents += [({"x": "7.5"}, 0.0), ({"y": "0.1"}, 0.0), ({"x": "0.8"}, math.nan)]  # left out

    def distances(warm_start: list[tuple[dict[str, str], float]]) -> float:
        strategy = _bayesian(3, space, warm_start=warm_start)
        found = []
        for _ in range(8):
            suggestion = strategy.suggest()
            assert suggestion is not None
            x = float(suggestion.hyperparameters["x"])
            strategy.observe(suggestion.trial_id, objective(x))
            found.append(abs(x - 0.8))
        return statistics.median(found)

    warm = _bayesian(3, space, warm_start=parents)
    assert warm.warm_started == 20
    assert distances(parents) < 0.1 < distances([])


@pytest.mark.parametrize(("max_jobs", "expected"), [(None, 10), (1, 5), (30, 5), (70, 7), (500, 10)])
def test_startup_trials_scale_with_the_budget(max_jobs: int | None, expected: int) -> None:
    assert startup_trials(max_jobs) == expected
