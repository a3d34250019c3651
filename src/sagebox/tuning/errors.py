"""Errors raised by the tuning layer."""

from __future__ import annotations


class TuningConfigError(ValueError):
    """A tuning configuration member has a value that is not allowed.

    ``member`` names the API member (``ParameterRanges.IntegerParameterRanges[0]
    ('max_depth')``, ``HyperbandStrategyConfig.MaxResource``) and ``problem`` says
    what is wrong and what is allowed; the message is ``<member>: <problem>``.
    """

    def __init__(self, member: str, problem: str) -> None:
        self.member = member
        self.problem = problem
        super().__init__(f"{member}: {problem}")


class TrialError(ValueError):
    """A trial id that the strategy or rule never issued, or one that has already ended."""

    def __init__(self, trial_id: str, problem: str) -> None:
        self.trial_id = trial_id
        self.problem = problem
        super().__init__(f"Trial '{trial_id}': {problem}")
