"""``TuningJobCompletionCriteria``: when a tuning job ends before its budget is spent.

The service feeds every trial's final objective in the order the trials end and
asks ``reason()`` after each; a reason ends the tuning job. The reasons are the
names of the criteria members:

- ``TargetObjectiveMetricValue``: a trial's objective reached the target (at or
  below it when minimizing, at or above when maximizing).
- ``BestObjectiveNotImproving``: ``MaxNumberOfTrainingJobsNotImproving`` trials in a
  row have not improved the best objective by 1% or more (relative). A trial
  improves it when it beats the best by at least 1% of the best's magnitude (by
  any margin when the best is 0). Trials without an objective count as not
  improving once a best exists. ``not_improving`` is the current run of such
  trials: ``TuningJobCompletionDetails.NumberOfTrainingJobsObjectiveNotImproving``.
- ``ConvergenceDetected`` (``CompleteOnConvergence: Enabled``): SageMaker does not
  publish its rule, only that convergence is "a lack of significant improvement
  (1% or less)". Here: over the last ``window`` ended trials, where ``window`` is
  ``max(10, 20% of MaxNumberOfTrainingJobs)`` (10 without a budget), the best
  objective improved by 1% or less of its magnitude in all. Unlike the previous
  criterion, many small gains that add up to more than 1% keep the job going.

Once a reason is found it stays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sagebox.tuning.base import direction, finite_or_none
from sagebox.tuning.errors import TuningConfigError

SIGNIFICANT_IMPROVEMENT = 0.01
CONVERGENCE_MIN_WINDOW = 10
CONVERGENCE_BUDGET_SHARE = 0.2


class CompletionReason(StrEnum):
    """Which completion criterion ended the tuning job."""

    TARGET_REACHED = "TargetObjectiveMetricValue"
    NOT_IMPROVING = "BestObjectiveNotImproving"
    CONVERGED = "ConvergenceDetected"


def convergence_window(max_jobs: int | None) -> int:
    if max_jobs is None:
        return CONVERGENCE_MIN_WINDOW
    return max(CONVERGENCE_MIN_WINDOW, math.ceil(CONVERGENCE_BUDGET_SHARE * max_jobs))


def _significantly_better(goodness: float, best: float) -> bool:
    """``goodness`` (larger is better) beats ``best`` by at least 1% of ``|best|``."""
    gain = goodness - best
    return gain > 0 and gain >= SIGNIFICANT_IMPROVEMENT * abs(best)


class CompletionTracker:
    """Checks ``TuningJobCompletionCriteria`` against the objectives of ended trials."""

    def __init__(
        self,
        criteria: Mapping[str, Any] | None,
        objective_type: str,
        *,
        max_jobs: int | None = None,
    ) -> None:
        self._sign = direction(objective_type)
        criteria = criteria or {}
        self._target = self._read_target(criteria)
        self._max_not_improving = self._read_not_improving(criteria)
        self._convergence = self._read_convergence(criteria)
        self.window = convergence_window(max_jobs)
        self._bests: list[float | None] = []  # best goodness after each ended trial
        self._best: float | None = None
        self.not_improving = 0
        self.observed = 0
        self._reason: CompletionReason | None = None

    @staticmethod
    def _read_target(criteria: Mapping[str, Any]) -> float | None:
        target = criteria.get("TargetObjectiveMetricValue")
        if target is None:
            return None
        if isinstance(target, bool) or not isinstance(target, int | float) or not math.isfinite(target):
            raise TuningConfigError(
                "TuningJobCompletionCriteria.TargetObjectiveMetricValue",
                f"{target!r} is not a finite number",
            )
        return float(target)

    @staticmethod
    def _read_not_improving(criteria: Mapping[str, Any]) -> int | None:
        member = criteria.get("BestObjectiveNotImproving")
        if not member:
            return None
        count = member.get("MaxNumberOfTrainingJobsNotImproving")
        if count is None:
            return None
        if isinstance(count, bool) or not isinstance(count, int) or count < 3:
            raise TuningConfigError(
                "TuningJobCompletionCriteria.BestObjectiveNotImproving."
                "MaxNumberOfTrainingJobsNotImproving",
                f"{count!r} is not allowed; expected an integer >= 3",
            )
        return count

    @staticmethod
    def _read_convergence(criteria: Mapping[str, Any]) -> bool:
        member = criteria.get("ConvergenceDetected")
        if not member:
            return False
        value = member.get("CompleteOnConvergence", "Disabled")
        if value not in ("Enabled", "Disabled"):
            raise TuningConfigError(
                "TuningJobCompletionCriteria.ConvergenceDetected.CompleteOnConvergence",
                f"'{value}' is not allowed; expected 'Enabled' or 'Disabled'",
            )
        return value == "Enabled"

    @property
    def best(self) -> float | None:
        """The best objective so far, in the metric's own sign."""
        return None if self._best is None else self._sign * self._best

    def observe(self, objective: float | None) -> None:
        """The final objective of the next trial to end (None: failed or no metric)."""
        self.observed += 1
        value = finite_or_none(objective)
        if value is None:
            if self._best is not None:
                self.not_improving += 1
        else:
            goodness = self._sign * value
            if self._best is None or _significantly_better(goodness, self._best):
                self.not_improving = 0
            else:
                self.not_improving += 1
            if self._best is None or goodness > self._best:
                self._best = goodness
        self._bests.append(self._best)
        if self._reason is None:
            self._reason = self._check()

    def _check(self) -> CompletionReason | None:
        if self._target is not None and self._best is not None and self._best >= self._sign * self._target:
            return CompletionReason.TARGET_REACHED
        if self._max_not_improving is not None and self.not_improving >= self._max_not_improving:
            return CompletionReason.NOT_IMPROVING
        if self._convergence and self.converged():
            return CompletionReason.CONVERGED
        return None

    def converged(self) -> bool:
        """True when the best objective gained 1% or less over the last ``window`` trials."""
        if len(self._bests) <= self.window:
            return False
        before, now = self._bests[-1 - self.window], self._bests[-1]
        if before is None or now is None:
            return False
        return not _significantly_better(now, before)

    def reason(self) -> CompletionReason | None:
        """The criterion that ends the tuning job, or None to keep going."""
        return self._reason
