"""What every search strategy and stopping rule shares: suggestions, decisions, trial ids.

A strategy is a pure object driven by the tuning service:

- ``suggest()`` returns the next configuration to train (a ``Suggestion``) or None
  when it has nothing more to try;
- ``observe(trial_id, objective)`` feeds back a trial's final objective metric
  (None when the training job failed or emitted no objective).

Strategies and rules keep plain in-memory state and are not thread-safe: call each
from one thread (or under one lock). Trial ids are issued by the strategy: ``"001"``, ``"002"``, ... in suggestion order
(three digits, more once past 999), the index SageMaker puts in the names of the
training jobs a tuning job launches.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sagebox.tuning.errors import TrialError, TuningConfigError

OBJECTIVE_TYPES = ("Minimize", "Maximize")


@dataclass(frozen=True)
class Suggestion:
    """One configuration to train.

    ``hyperparameters`` are the tuned values as strings, ready to merge over the
    static hyperparameters. ``resource`` is set by Hyperband only: the training
    budget of the trial (also present in ``hyperparameters`` under the resource
    name when one was given).
    """

    trial_id: str
    hyperparameters: dict[str, str]
    resource: int | None = None


class Decision(StrEnum):
    """What a stopping rule tells the service to do with a running trial."""

    CONTINUE = "continue"
    STOP = "stop"


class Strategy(Protocol):
    """A search strategy: suggests configurations and learns from their objectives."""

    def suggest(self) -> Suggestion | None: ...

    def observe(self, trial_id: str, objective: float | None) -> None: ...


def trial_id(index: int) -> str:
    """The id of the ``index``-th trial (1-based)."""
    return f"{index:03d}"


def seeded_random(seed: int | None) -> random.Random:
    """A generator for ``RandomSeed``; None draws a fresh seed from the system."""
    return random.Random(seed if seed is not None else random.SystemRandom().getrandbits(64))


def direction(objective_type: str) -> float:
    """+1.0 for ``Maximize``, -1.0 for ``Minimize``: multiply to make larger better."""
    if objective_type not in OBJECTIVE_TYPES:
        raise TuningConfigError(
            "HyperParameterTuningJobObjective.Type",
            f"'{objective_type}' is not allowed; expected 'Minimize' or 'Maximize'",
        )
    return 1.0 if objective_type == "Maximize" else -1.0


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass
class TrialBook:
    """The trials a strategy has issued and which of them have ended."""

    limit: int | None = None
    issued: int = 0
    open: set[str] = field(default_factory=set)
    results: dict[str, float | None] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.issued >= self.limit

    def issue(self) -> str:
        self.issued += 1
        new = trial_id(self.issued)
        self.open.add(new)
        return new

    def require_open(self, trial: str) -> None:
        if trial in self.results:
            raise TrialError(trial, "has already ended")
        if trial not in self.open:
            raise TrialError(trial, "was never suggested")

    def close(self, trial: str, objective: float | None) -> float | None:
        """Record the final objective of an open trial; returns it cleaned (None if not finite)."""
        self.require_open(trial)
        self.open.discard(trial)
        cleaned = finite_or_none(objective)
        self.results[trial] = cleaned
        return cleaned
