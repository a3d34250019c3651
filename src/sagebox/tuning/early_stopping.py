"""``TrainingJobEarlyStoppingType: Auto``: the median stopping rule.

SageMaker's "Stop Training Jobs Early" describes the rule: each time a training
job emits its objective metric for an epoch, take every earlier training job's
running average of the objective up to that same epoch, and the median of those
running averages; when the current job's value is worse than that median (higher
when minimizing, lower when maximizing), the job is stopped. The API reference
adds that jobs are stopped when they are unlikely to beat *previously completed*
training jobs, so the comparison set here is the trials that have completed.

Guards that SageMaker leaves unstated, so that no trial is stopped on too little
evidence:

- ``min_trials`` (default 3): at least this many completed trials must have reached
  the step before a trial can be stopped there, so the first jobs always run;
- ``grace_steps`` (default 1) and ``grace_fraction`` (default 0.2): no trial is
  stopped before step ``grace_steps``, nor within the first ``grace_fraction`` of the
  longest run among completed trials (the training budget, as far as the rule can
  tell). Values from the first iterations mostly measure how fast a configuration
  learns, not how good it ends: with boosting rounds as steps, a small learning
  rate that ends best looks worst after a few rounds.

Steps are the 1-based iteration numbers (epoch, boosting round) the service reads
from the job's metric lines; they need not be contiguous. A completed trial that
has reached a step contributes the mean of its values at or before that step.
A NaN or infinite value is not recorded and stops the trial when the guards allow.
"""

from __future__ import annotations

import bisect
import math
import statistics
from dataclasses import dataclass, field

from sagebox.tuning.base import Decision, direction
from sagebox.tuning.errors import TrialError


@dataclass
class _Curve:
    steps: list[int] = field(default_factory=list)
    sums: list[float] = field(default_factory=list)  # running sums of the values

    def add(self, step: int, value: float) -> None:
        if self.steps and step <= self.steps[-1]:
            return  # a repeated or out-of-order step keeps the first value
        self.steps.append(step)
        self.sums.append((self.sums[-1] if self.sums else 0.0) + value)

    def running_average(self, step: int) -> float | None:
        """Mean of the values at or before ``step``; None if the curve stops short of it."""
        if not self.steps or self.steps[-1] < step:
            return None
        count = bisect.bisect_right(self.steps, step)
        return self.sums[count - 1] / count if count else None


class MedianStoppingRule:
    """Stops a trial whose value is worse than the median of completed trials' running averages."""

    def __init__(
        self,
        objective_type: str,
        min_trials: int = 3,
        grace_steps: int = 1,
        grace_fraction: float = 0.2,
    ) -> None:
        if min_trials < 1:
            raise ValueError(f"min_trials {min_trials} is not allowed; expected >= 1")
        if not 0 <= grace_fraction < 1:
            raise ValueError(f"grace_fraction {grace_fraction} is not allowed; expected [0, 1)")
        self._sign = direction(objective_type)
        self.min_trials = min_trials
        self.grace_steps = grace_steps
        self.grace_fraction = grace_fraction
        self._longest = 0  # the most steps any completed trial reached
        self._running: dict[str, _Curve] = {}
        self._completed: dict[str, _Curve] = {}
        self._stopped: set[str] = set()

    def report(self, trial_id: str, step: int, value: float) -> Decision:
        """CONTINUE or STOP for ``trial_id`` after it emitted ``value`` at ``step``."""
        if trial_id in self._completed:
            raise TrialError(trial_id, "has already completed")
        if trial_id in self._stopped:
            return Decision.STOP
        curve = self._running.setdefault(trial_id, _Curve())
        finite = math.isfinite(value)
        if finite:
            curve.add(step, float(value))
        if step < self.grace_steps or step < self.grace_fraction * self._longest:
            return Decision.CONTINUE
        averages = [
            average
            for other in self._completed.values()
            if (average := other.running_average(step)) is not None
        ]
        if len(averages) < self.min_trials:
            return Decision.CONTINUE
        if not finite or self._sign * (value - statistics.median(averages)) < 0:
            self._stopped.add(trial_id)
            return Decision.STOP
        return Decision.CONTINUE

    def complete(self, trial_id: str) -> None:
        """The trial has ended (completed, stopped or failed); it now serves as a comparison."""
        if trial_id in self._completed:
            raise TrialError(trial_id, "has already completed")
        self._stopped.discard(trial_id)
        curve = self._running.pop(trial_id, _Curve())
        self._completed[trial_id] = curve
        if curve.steps:
            self._longest = max(self._longest, curve.steps[-1])
