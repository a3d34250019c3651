"""The median stopping rule of ``TrainingJobEarlyStoppingType: Auto``."""

from __future__ import annotations

import math

import pytest

from sagebox.tuning import Decision, MedianStoppingRule, TrialError, TuningConfigError


def _complete(rule: MedianStoppingRule, trial: str, curve: list[float]) -> None:
    for step, value in enumerate(curve, start=1):
        rule.report(trial, step, value)
    rule.complete(trial)


def _rule_with_history(objective_type: str = "Minimize", **kwargs: int) -> MedianStoppingRule:
    rule = MedianStoppingRule(objective_type, **kwargs)
    _complete(rule, "001", [1.0, 0.9, 0.8, 0.7, 0.6])
    _complete(rule, "002", [1.2, 1.0, 0.9, 0.8, 0.7])
    _complete(rule, "003", [0.8, 0.7, 0.6, 0.5, 0.4])
    return rule


def test_the_first_trials_are_never_stopped() -> None:
    rule = MedianStoppingRule("Minimize")
    for trial, value in (("001", 1.0), ("002", 50.0), ("003", 500.0)):
        for step in range(1, 6):
            assert rule.report(trial, step, value * step) is Decision.CONTINUE
        rule.complete(trial)


def test_a_clearly_worse_trial_is_stopped_and_a_good_one_continues() -> None:
    rule = _rule_with_history()
    assert rule.report("004", 1, 0.5) is Decision.CONTINUE
    assert rule.report("004", 2, 0.6) is Decision.CONTINUE
    assert rule.report("005", 1, 3.0) is Decision.STOP
    assert rule.report("005", 2, 0.1) is Decision.STOP  # stays stopped


def test_the_comparison_is_against_the_median_of_running_averages() -> None:
    rule = _rule_with_history()
    # At step 3 the running averages are 0.9, 1.033 and 0.7: median 0.9. A value of 0.85 is
    # worse than every other trial's value at step 3 (0.8, 0.9, 0.6 -> median 0.8), yet better
    # than the median of their running averages, so it continues.
    assert rule.report("004", 3, 0.85) is Decision.CONTINUE
    assert rule.report("005", 3, 0.95) is Decision.STOP


def test_maximize_stops_the_lower_values() -> None:
    rule = _rule_with_history("Maximize")
    assert rule.report("004", 2, 0.5) is Decision.STOP
    assert rule.report("005", 2, 1.5) is Decision.CONTINUE


def test_grace_steps_and_min_trials_guard_the_rule() -> None:
    graced = _rule_with_history(grace_steps=3)
    assert graced.report("004", 2, 9.0) is Decision.CONTINUE
    assert graced.report("004", 3, 9.0) is Decision.STOP
    demanding = _rule_with_history(min_trials=4)
    assert demanding.report("004", 2, 9.0) is Decision.CONTINUE


def test_only_completed_trials_that_reached_the_step_are_compared() -> None:
    rule = _rule_with_history()
    assert rule.report("004", 9, 9.0) is Decision.CONTINUE  # nobody completed reached step 9
    for step in range(1, 4):
        rule.report("005", step, 0.1)  # running, not completed: no comparison yet
    rule.report("006", 1, 0.9)
    assert rule.report("006", 4, 0.65) is Decision.CONTINUE  # averages 0.85, 0.975, 0.65


def test_steps_may_skip_and_repeat() -> None:
    rule = MedianStoppingRule("Minimize")
    for trial in ("001", "002", "003"):
        rule.report(trial, 2, 1.0)
        rule.report(trial, 2, 5.0)  # a repeated step keeps its first value
        rule.report(trial, 10, 1.0)
        rule.complete(trial)
    assert rule.report("004", 5, 0.99) is Decision.CONTINUE
    assert rule.report("005", 5, 1.01) is Decision.STOP


def test_non_finite_values_stop_once_the_guards_allow() -> None:
    early = MedianStoppingRule("Minimize")
    assert early.report("001", 1, math.nan) is Decision.CONTINUE
    rule = _rule_with_history()
    assert rule.report("004", 1, math.inf) is Decision.STOP


def test_trial_bookkeeping() -> None:
    rule = _rule_with_history()
    rule.complete("009")  # a trial that failed before its first metric
    with pytest.raises(TrialError, match="already completed"):
        rule.complete("001")
    with pytest.raises(TrialError, match="already completed"):
        rule.report("001", 6, 0.1)
    with pytest.raises(TuningConfigError, match="HyperParameterTuningJobObjective.Type"):
        MedianStoppingRule("Lower")
    with pytest.raises(ValueError, match="min_trials"):
        MedianStoppingRule("Minimize", min_trials=0)
