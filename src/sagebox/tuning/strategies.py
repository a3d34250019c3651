"""Search strategies of ``HyperParameterTuningJobConfig.Strategy`` and ``make_strategy``.

- ``Random``: every configuration drawn independently and uniformly under each
  range's scale, from a generator seeded with ``RandomSeed``.
- ``Grid``: every combination of the categorical values, each once, then None.
- ``Bayesian``: Optuna's multivariate TPE (``sagebox.tuning.bayesian``).
- ``Hyperband``: random configurations with asynchronous successive halving over the
  training budget (``sagebox.tuning.hyperband``).

Every strategy stops suggesting after ``max_jobs`` suggestions
(``ResourceLimits.MaxNumberOfTrainingJobs``; None: no limit of its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sagebox.tuning.base import (
    Decision,
    Strategy,
    Suggestion,
    TrialBook,
    direction,
    seeded_random,
    trial_id,
)
from sagebox.tuning.errors import TrialError, TuningConfigError
from sagebox.tuning.hyperband import HyperbandConfig, HyperbandStrategy
from sagebox.tuning.space import SearchSpace

__all__ = [
    "STRATEGIES",
    "Decision",
    "GridStrategy",
    "HyperbandStrategy",
    "RandomStrategy",
    "Strategy",
    "Suggestion",
    "TrialError",
    "make_strategy",
    "trial_id",
]

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")


class RandomStrategy:
    """Independent uniform draws under each range's scale; reproducible for a seed."""

    def __init__(self, space: SearchSpace, *, seed: int | None, max_jobs: int | None) -> None:
        self.space = space
        self._rng = seeded_random(seed)
        self._book = TrialBook(max_jobs)

    def suggest(self) -> Suggestion | None:
        if self._book.exhausted:
            return None
        values = self.space.sample(self._rng)
        return Suggestion(self._book.issue(), self.space.to_api_values(values))

    def observe(self, trial_id: str, objective: float | None) -> None:
        self._book.close(trial_id, objective)


class GridStrategy:
    """Every combination of the categorical ranges, in ``SearchSpace.grid`` order, once."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._combinations = space.grid()
        self._book = TrialBook(len(self._combinations))

    def __len__(self) -> int:
        return len(self._combinations)

    def suggest(self) -> Suggestion | None:
        if self._book.exhausted:
            return None
        combination = self._combinations[self._book.issued]
        return Suggestion(self._book.issue(), dict(combination))

    def observe(self, trial_id: str, objective: float | None) -> None:
        self._book.close(trial_id, objective)


def _check_max_jobs(max_jobs: int | None) -> None:
    if max_jobs is not None and (isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or max_jobs < 1):
        raise TuningConfigError(
            "ResourceLimits.MaxNumberOfTrainingJobs", f"{max_jobs!r} is not an integer >= 1"
        )


def _check_seed(seed: int | None) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise TuningConfigError(
            "HyperParameterTuningJobConfig.RandomSeed", f"{seed!r} is not an integer >= 0"
        )


def make_strategy(
    name: str,
    space: SearchSpace,
    *,
    objective_type: str,
    seed: int | None,
    max_jobs: int | None,
    hyperband: Mapping[str, Any] | None = None,
    resource_name: str | None = None,
    warm_start: Iterable[tuple[Mapping[str, str], float]] = (),
) -> Strategy:
    """The strategy ``name`` of ``HyperParameterTuningJobConfig.Strategy`` over ``space``.

    ``hyperband`` is the ``HyperbandStrategyConfig`` (Hyperband only; MaxResource
    required, see ``hyperband.infer_max_resource``); ``resource_name`` the
    hyperparameter that carries a trial's budget (``num_round``, ``epochs``).
    ``warm_start`` are ``(hyperparameters, objective)`` pairs of the parent tuning
    jobs' training jobs; only Bayesian learns from them.

    Grid runs exactly one job per combination: a ``max_jobs`` other than the number
    of combinations is a ``TuningConfigError`` (leave it None to have it computed).
    """
    if name not in STRATEGIES:
        raise TuningConfigError(
            "HyperParameterTuningJobConfig.Strategy",
            f"'{name}' is not allowed; expected one of {', '.join(STRATEGIES)}",
        )
    direction(objective_type)
    _check_max_jobs(max_jobs)
    _check_seed(seed)
    if hyperband is not None and name != "Hyperband":
        raise TuningConfigError(
            "HyperParameterTuningJobConfig.StrategyConfig",
            f"HyperbandStrategyConfig is allowed only with the Hyperband strategy, not {name}",
        )
    if name == "Random":
        return RandomStrategy(space, seed=seed, max_jobs=max_jobs)
    if name == "Grid":
        grid = GridStrategy(space)
        if max_jobs is not None and max_jobs != len(grid):
            raise TuningConfigError(
                "ResourceLimits.MaxNumberOfTrainingJobs",
                f"{max_jobs} given, but the Grid strategy runs one job per combination: "
                f"{len(grid)}; give {len(grid)} or leave it out",
            )
        return grid
    if name == "Hyperband":
        return HyperbandStrategy(
            space,
            HyperbandConfig.from_api(hyperband),
            objective_type=objective_type,
            seed=seed,
            max_jobs=max_jobs,
            resource_name=resource_name,
        )
    # Imported here so that only Bayesian tuning jobs pay for importing Optuna.
    from sagebox.tuning.bayesian import BayesianStrategy

    return BayesianStrategy(
        space,
        objective_type=objective_type,
        seed=seed,
        max_jobs=max_jobs,
        warm_start=warm_start,
    )
