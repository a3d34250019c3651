"""Hyperband: HyperbandStrategyConfig, rungs and asynchronous successive halving."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from sagebox.tuning import (
    ContinuousRange,
    Decision,
    HyperbandConfig,
    HyperbandStrategy,
    SearchSpace,
    TrialError,
    TuningConfigError,
    infer_max_resource,
    make_strategy,
)

SPACE = SearchSpace([ContinuousRange("quality", 0.0, 1.0, "Linear")])


def _hyperband(
    max_resource: int = 27,
    min_resource: int = 1,
    *,
    objective_type: str = "Minimize",
    resource_name: str | None = "epochs",
    max_jobs: int | None = None,
    seed: int | None = 0,
) -> HyperbandStrategy:
    strategy = make_strategy(
        "Hyperband", SPACE, objective_type=objective_type, seed=seed, max_jobs=max_jobs,
        hyperband={"MinResource": min_resource, "MaxResource": max_resource}, resource_name=resource_name,
    )
    assert isinstance(strategy, HyperbandStrategy)
    return strategy


def _start(strategy: HyperbandStrategy) -> str:
    suggestion = strategy.suggest()
    assert suggestion is not None
    return suggestion.trial_id


def test_config_defaults_and_rungs() -> None:
    config = HyperbandConfig.from_api({"MaxResource": 81})
    assert (config.min_resource, config.max_resource, config.reduction_factor) == (1, 81, 3)
    assert config.rungs == (1, 3, 9, 27)
    assert HyperbandConfig.from_api({"HyperbandStrategyConfig": {"MinResource": 5, "MaxResource": 150}}).rungs == (5, 15, 45, 135)
    assert HyperbandConfig(max_resource=10, min_resource=10).rungs == ()


@pytest.mark.parametrize(
    ("config", "member", "words"),
    [
        (None, "HyperbandStrategyConfig.MaxResource", "required"),
        ({"MinResource": 3}, "HyperbandStrategyConfig.MaxResource", "required"),
        ({"MaxResource": 20_001}, "HyperbandStrategyConfig.MaxResource", "[1, 20000]"),
        ({"MaxResource": 0}, "HyperbandStrategyConfig.MaxResource", "[1, 20000]"),
        ({"MaxResource": "100"}, "HyperbandStrategyConfig.MaxResource", "not an integer"),
        ({"MinResource": 0, "MaxResource": 10}, "HyperbandStrategyConfig.MinResource", "[1, 20000]"),
        ({"MinResource": 11, "MaxResource": 10}, "HyperbandStrategyConfig.MinResource", "greater than MaxResource 10"),
    ],
)
def test_invalid_config_names_the_member(config: dict | None, member: str, words: str) -> None:
    with pytest.raises(TuningConfigError) as caught:
        HyperbandConfig.from_api(config)
    assert caught.value.member == member and words in caught.value.problem


def test_max_resource_is_inferred_from_static_hyperparameters_in_sagemaker_order() -> None:
    assert infer_max_resource({"num_epochs": "20", "epochs": "50"}) == ("epochs", 50)
    assert infer_max_resource({"n-epochs": "12", "lr": "0.1"}) == ("n-epochs", 12)
    assert infer_max_resource({"num_round": "100"}) is None
    with pytest.raises(TuningConfigError, match="StaticHyperParameters.epochs"):
        infer_max_resource({"epochs": "many"})


def test_suggestions_carry_the_full_budget() -> None:
    suggestion = _hyperband(max_resource=50).suggest()
    assert suggestion is not None
    assert suggestion.resource == 50 and suggestion.hyperparameters["epochs"] == "50"
    assert set(suggestion.hyperparameters) == {"quality", "epochs"}


def test_the_resource_cannot_also_be_tuned() -> None:
    with pytest.raises(TuningConfigError, match="ParameterRanges \\('quality'\\)"):
        _hyperband(resource_name="quality")


def test_suggestions_are_reproducible_for_a_seed_and_stop_at_max_jobs() -> None:
    first, second = _hyperband(max_jobs=3, seed=9), _hyperband(max_jobs=3, seed=9)
    assert [first.suggest() for _ in range(4)] == [second.suggest() for _ in range(4)]
    assert first.suggest() is None


def test_a_trial_outside_the_top_third_at_a_rung_is_stopped() -> None:
    strategy = _hyperband()
    a, b, c, d = (_start(strategy) for _ in range(4))
    assert strategy.report(a, 1, 1.0) is Decision.CONTINUE  # first at the rung always passes
    assert strategy.report(b, 1, 2.0) is Decision.STOP
    assert strategy.report(c, 1, 3.0) is Decision.STOP
    assert strategy.report(d, 1, 0.5) is Decision.CONTINUE
    assert strategy.report(b, 2, 0.1) is Decision.STOP  # stays stopped
    assert strategy.rung_counts() == {1: 4, 3: 0, 9: 0}


def test_maximize_keeps_the_larger_values() -> None:
    strategy = _hyperband(objective_type="Maximize")
    a, b = _start(strategy), _start(strategy)
    assert strategy.report(a, 1, 0.9) is Decision.CONTINUE
    assert strategy.report(b, 1, 0.5) is Decision.STOP


def test_no_stop_before_min_resource_and_non_finite_values_stop() -> None:
    strategy = _hyperband(min_resource=3)
    a, b = _start(strategy), _start(strategy)
    assert strategy.report(a, 1, 0.1) is Decision.CONTINUE
    assert strategy.report(b, 1, 100.0) is Decision.CONTINUE
    assert strategy.report(b, 2, math.nan) is Decision.CONTINUE
    assert strategy.report(a, 3, 0.1) is Decision.CONTINUE
    assert strategy.report(b, 3, math.inf) is Decision.STOP


def test_sparse_reports_are_compared_at_every_rung_they_pass() -> None:
    strategy = _hyperband()
    a, b = _start(strategy), _start(strategy)
    for used in (1, 3, 9, 20):
        assert strategy.report(a, used, 1.0 / used) is Decision.CONTINUE
    assert strategy.report(b, 10, 0.5) is Decision.STOP  # passes rung 1 (first value there), fails rung 3
    assert strategy.rung_counts() == {1: 2, 3: 2, 9: 2}


def test_without_a_resource_name_the_trial_is_stopped_at_max_resource() -> None:
    strategy = _hyperband(max_resource=9, resource_name=None)
    suggestion = strategy.suggest()
    assert suggestion is not None and suggestion.resource == 9 and "epochs" not in suggestion.hyperparameters
    assert strategy.report(suggestion.trial_id, 8, 0.1) is Decision.CONTINUE
    assert strategy.report(suggestion.trial_id, 9, 0.1) is Decision.STOP


def test_reports_for_unknown_or_ended_trials_raise() -> None:
    strategy = _hyperband()
    with pytest.raises(TrialError):
        strategy.report("001", 1, 0.1)
    trial = _start(strategy)
    strategy.observe(trial, 0.2)
    with pytest.raises(TrialError, match="has already ended"):
        strategy.report(trial, 2, 0.1)


def test_weak_trials_are_stopped_early_and_the_strongest_runs_to_the_end() -> None:
    """Learning curves ``quality + 1 / rounds``: a lower quality is a better trial."""
    strategy = _hyperband(max_resource=81, max_jobs=40, seed=4)
    rng = random.Random(1)
    used: dict[str, int] = {}
    quality: dict[str, float] = {}
    while (suggestion := strategy.suggest()) is not None:
        trial = suggestion.trial_id
        quality[trial] = float(suggestion.hyperparameters["quality"])
        for rounds in range(1, 82):
            value = quality[trial] + 1 / rounds + rng.gauss(0, 0.005)
            used[trial] = rounds
            if strategy.report(trial, rounds, value) is Decision.STOP:
                break
        strategy.observe(trial, value)
    best = min(quality, key=lambda t: quality[t])
    assert used[best] == 81
    finished = [t for t in used if used[t] == 81]
    stopped = [t for t in used if used[t] < 81]
    assert len(stopped) > 2 * len(finished)
    assert statistics.median(quality[t] for t in finished) < statistics.median(quality[t] for t in stopped)
    assert sum(used.values()) < 0.35 * 40 * 81
