"""The Hyperband strategy: asynchronous successive halving (ASHA) over a training budget.

The budget ("resource") is a hyperparameter that counts training iterations:
``num_round`` for XGBoost, ``epochs`` for most others. ``HyperbandStrategyConfig``
bounds it: ``MinResource`` (default 1) and ``MaxResource`` (at most 20,000; when
left out SageMaker reads it from the static hyperparameters ``epochs``,
``numepochs``, ``n-epochs``, ``n_epochs`` or ``num_epochs`` -- ``infer_max_resource``).

The scheme, with reduction factor ``eta = 3``:

- ``suggest()`` draws a configuration at random (seeded) and gives it the whole
  budget: ``Suggestion.resource == MaxResource``, also set in the hyperparameters
  under the resource name when one is given. Trials are not restarted or resumed;
  they are stopped early instead.
- Rungs sit at ``MinResource * eta**k`` for every ``k >= 0`` below ``MaxResource``.
- The service calls ``report(trial_id, resource_used, value)`` with every
  intermediate objective value, ``resource_used`` being the iterations done so far
  (iteration number + 1). The first value at or past a rung is the trial's value
  there. A trial is promoted past a rung when that value is at least as good as
  the ``1 - 1/eta`` quantile (linear interpolation) of all values recorded at the
  rung so far, its own included; otherwise ``report`` answers STOP. The first trial
  at a rung always passes; a trial is never stopped before ``MinResource``.
- A value that is NaN or infinite counts as the worst possible and stops the
  trial once ``MinResource`` is reached.
- Without a resource name the trial does not know its budget, so ``report``
  answers STOP once ``resource_used`` reaches ``MaxResource``.

After a STOP every later report for the trial answers STOP. When a trial ends
(completed, stopped or failed) the service calls ``observe`` with its final
objective, as for every strategy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.tuning.base import Decision, Suggestion, TrialBook, direction, seeded_random
from sagebox.tuning.errors import TuningConfigError
from sagebox.tuning.space import SearchSpace

MAX_RESOURCE_LIMIT = 20_000
REDUCTION_FACTOR = 3
MAX_RESOURCE_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")
"""Static hyperparameters SageMaker reads ``MaxResource`` from, in this order."""


def infer_max_resource(static_hyperparameters: Mapping[str, str]) -> tuple[str, int] | None:
    """``(name, value)`` of the first static hyperparameter that gives ``MaxResource``."""
    for key in MAX_RESOURCE_KEYS:
        if key in static_hyperparameters:
            try:
                value = int(str(static_hyperparameters[key]).strip())
            except ValueError:
                raise TuningConfigError(
                    f"StaticHyperParameters.{key}",
                    f"'{static_hyperparameters[key]}' is not an integer, so MaxResource "
                    "cannot be inferred from it",
                ) from None
            return key, value
    return None


def _resource(config: Mapping[str, Any], key: str, default: int | None) -> int:
    member = f"HyperbandStrategyConfig.{key}"
    value = config.get(key, default)
    if value is None:
        raise TuningConfigError(
            member,
            "required: give it, or a static hyperparameter it can be inferred from ("
            + ", ".join(MAX_RESOURCE_KEYS)
            + ")",
        )
    if isinstance(value, bool) or not isinstance(value, int):
        raise TuningConfigError(member, f"{value!r} is not an integer")
    if not 1 <= value <= MAX_RESOURCE_LIMIT:
        raise TuningConfigError(
            member, f"{value} is not allowed; expected an integer in [1, {MAX_RESOURCE_LIMIT}]"
        )
    return value


@dataclass(frozen=True)
class HyperbandConfig:
    """Budget bounds of a Hyperband tuning job, in units of the resource hyperparameter."""

    max_resource: int
    min_resource: int = 1
    reduction_factor: int = REDUCTION_FACTOR

    def __post_init__(self) -> None:
        if self.min_resource > self.max_resource:
            raise TuningConfigError(
                "HyperbandStrategyConfig.MinResource",
                f"{self.min_resource} is greater than MaxResource {self.max_resource}",
            )
        if self.reduction_factor < 2:
            raise TuningConfigError(
                "reduction factor", f"{self.reduction_factor} is not allowed; expected >= 2"
            )

    @classmethod
    def from_api(cls, config: Mapping[str, Any] | None) -> HyperbandConfig:
        """From ``HyperbandStrategyConfig`` (or a ``StrategyConfig`` that wraps it)."""
        config = dict(config or {})
        if "HyperbandStrategyConfig" in config:
            config = dict(config["HyperbandStrategyConfig"] or {})
        return cls(
            max_resource=_resource(config, "MaxResource", None),
            min_resource=_resource(config, "MinResource", 1),
        )

    @property
    def rungs(self) -> tuple[int, ...]:
        """Budgets at which trials are compared: ``min * eta**k`` below ``max``."""
        rungs: list[int] = []
        rung = self.min_resource
        while rung < self.max_resource:
            rungs.append(rung)
            rung *= self.reduction_factor
        return tuple(rungs)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    a, b = ordered[low], ordered[high]
    if fraction == 0 or a == b or math.isinf(a):
        return a
    return a + fraction * (b - a)


class HyperbandStrategy:
    """Random configurations, each stopped early at the rungs where it falls behind."""

    def __init__(
        self,
        space: SearchSpace,
        config: HyperbandConfig,
        *,
        objective_type: str,
        seed: int | None,
        max_jobs: int | None,
        resource_name: str | None = None,
    ) -> None:
        if resource_name is not None and resource_name in space:
            raise TuningConfigError(
                f"ParameterRanges ('{resource_name}')",
                "is the Hyperband resource hyperparameter, so it cannot also be tuned",
            )
        self.space = space
        self.config = config
        self.resource_name = resource_name
        self._sign = direction(objective_type)
        self._rng = seeded_random(seed)
        self._book = TrialBook(max_jobs)
        self._rungs = config.rungs
        self._recorded: list[list[float]] = [[] for _ in self._rungs]
        self._next_rung: dict[str, int] = {}
        self._stopped: set[str] = set()
        self._keep = 1 - 1 / config.reduction_factor

    def suggest(self) -> Suggestion | None:
        if self._book.exhausted:
            return None
        hyperparameters = self.space.to_api_values(self.space.sample(self._rng))
        if self.resource_name is not None:
            hyperparameters[self.resource_name] = str(self.config.max_resource)
        trial = self._book.issue()
        self._next_rung[trial] = 0
        return Suggestion(trial, hyperparameters, resource=self.config.max_resource)

    def report(self, trial_id: str, resource_used: int, value: float) -> Decision:
        """CONTINUE or STOP after the trial has used ``resource_used`` iterations."""
        self._book.require_open(trial_id)
        if trial_id in self._stopped:
            return Decision.STOP
        goodness = self._sign * float(value) if math.isfinite(value) else -math.inf
        decision = Decision.CONTINUE
        if resource_used >= self.config.min_resource and goodness == -math.inf:
            decision = Decision.STOP
        rung = self._next_rung[trial_id]
        while rung < len(self._rungs) and self._rungs[rung] <= resource_used:
            recorded = self._recorded[rung]
            recorded.append(goodness)
            if goodness < _quantile(recorded, self._keep):
                decision = Decision.STOP
            rung += 1
        self._next_rung[trial_id] = rung
        if self.resource_name is None and resource_used >= self.config.max_resource:
            decision = Decision.STOP
        if decision is Decision.STOP:
            self._stopped.add(trial_id)
        return decision

    def observe(self, trial_id: str, objective: float | None) -> None:
        self._book.close(trial_id, objective)
        self._stopped.discard(trial_id)
        self._next_rung.pop(trial_id, None)

    def rung_counts(self) -> dict[int, int]:
        """How many trials have reached each rung (by budget)."""
        return {rung: len(values) for rung, values in zip(self._rungs, self._recorded, strict=True)}
