"""The Bayesian strategy: Optuna's multivariate TPE through its ask-and-tell interface.

Every range becomes a fixed Optuna distribution:

- integer: ``IntDistribution`` (``log=True`` under Logarithmic scaling);
- continuous: ``FloatDistribution`` (``log=True`` under Logarithmic); under
  ReverseLogarithmic the sampler works on ``1 - x`` with ``log=True`` and the
  value is mapped back;
- categorical: ``CategoricalDistribution`` over the distinct values.

``RandomSeed`` seeds the sampler, so a tuning job with the same seed and the same
objectives replays the same suggestions. Trials whose training job failed (or
gave no finite objective) are told to Optuna as failed. Warm-start observations
(the training jobs of parent tuning jobs) are added as completed trials before the
first suggestion; those whose hyperparameters do not fit this job's ranges (a
TransferLearning parent may have searched other ranges) are left out.

The sampler draws ``startup_trials(max_jobs)`` random configurations (warm-start
trials count towards them) before TPE takes over, and uses the constant-liar
heuristic so that trials suggested while others are still running differ.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import Trial, TrialState

from sagebox.tuning.base import Suggestion, TrialBook, direction
from sagebox.tuning.errors import TuningConfigError
from sagebox.tuning.space import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
    Value,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


EI_CANDIDATES = 256
"""Candidates TPE scores per suggestion (Optuna's default is 24); more candidates exploit
the model harder, which measured better at tuning-job budgets of tens of trials."""


def startup_trials(max_jobs: int | None) -> int:
    """Random trials before TPE: a tenth of the budget, between 5 and 10."""
    if max_jobs is None:
        return 10
    return min(10, max(5, max_jobs // 10))


def _distribution(item: IntegerRange | ContinuousRange | CategoricalRange) -> BaseDistribution:
    if isinstance(item, CategoricalRange):
        return CategoricalDistribution(item.distinct_values())
    scaling = item.effective_scaling
    if isinstance(item, IntegerRange):
        return IntDistribution(item.min_value, item.max_value, log=scaling == "Logarithmic")
    if scaling == "ReverseLogarithmic":
        return FloatDistribution(1 - item.max_value, 1 - item.min_value, log=True)
    return FloatDistribution(item.min_value, item.max_value, log=scaling == "Logarithmic")


def _reversed(item: object) -> bool:
    return isinstance(item, ContinuousRange) and item.effective_scaling == "ReverseLogarithmic"


class BayesianStrategy:
    """Tree-structured Parzen estimator (multivariate) over the search space."""

    def __init__(
        self,
        space: SearchSpace,
        *,
        objective_type: str,
        seed: int | None,
        max_jobs: int | None,
        warm_start: Iterable[tuple[Mapping[str, str], float]] = (),
    ) -> None:
        sign = direction(objective_type)
        self.space = space
        self._book = TrialBook(max_jobs)
        self._distributions = {item.name: _distribution(item) for item in space}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=seed,
                multivariate=True,
                n_startup_trials=startup_trials(max_jobs),
                n_ei_candidates=EI_CANDIDATES,
                constant_liar=True,
            )
            self._study = optuna.create_study(
                direction="maximize" if sign > 0 else "minimize", sampler=sampler
            )
        self._trials: dict[str, Trial] = {}
        self.warm_started = sum(self._add_warm_start(hp, value) for hp, value in warm_start)

    def _add_warm_start(self, hyperparameters: Mapping[str, str], objective: float) -> bool:
        if objective is None or not math.isfinite(objective):
            return False
        try:
            values = self.space.parse_values(hyperparameters)
        except TuningConfigError:
            return False
        params = {name: self._to_optuna(name, value) for name, value in values.items()}
        self._study.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=self._distributions, value=float(objective)
            )
        )
        return True

    def _to_optuna(self, name: str, value: Value) -> Value:
        return 1 - float(value) if _reversed(self.space[name]) else value

    def _from_optuna(self, name: str, value: Value) -> Value:
        item = self.space[name]
        if isinstance(item, ContinuousRange) and _reversed(item):
            return min(max(1 - float(value), item.min_value), item.max_value)
        return value

    def suggest(self) -> Suggestion | None:
        if self._book.exhausted:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            trial = self._study.ask(self._distributions)
        values = {name: self._from_optuna(name, trial.params[name]) for name in self.space.names()}
        trial_id = self._book.issue()
        self._trials[trial_id] = trial
        return Suggestion(trial_id, self.space.to_api_values(values))

    def observe(self, trial_id: str, objective: float | None) -> None:
        cleaned = self._book.close(trial_id, objective)
        trial = self._trials.pop(trial_id)
        if cleaned is None:
            self._study.tell(trial, state=TrialState.FAIL)
        else:
            self._study.tell(trial, cleaned)
