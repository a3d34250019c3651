"""``TuningJobCompletionCriteria``: each criterion fires exactly when it should."""

from __future__ import annotations

import pytest

from sagebox.tuning import CompletionReason, CompletionTracker, TuningConfigError
from sagebox.tuning.completion import convergence_window


def _feed(tracker: CompletionTracker, objectives: list[float | None]) -> list[str | None]:
    reasons = []
    for objective in objectives:
        tracker.observe(objective)
        reasons.append(tracker.reason())
    return reasons


def test_no_criteria_never_completes() -> None:
    tracker = CompletionTracker(None, "Minimize")
    assert _feed(tracker, [1.0] * 50) == [None] * 50
    assert tracker.best == 1.0 and tracker.observed == 50


def test_target_fires_when_an_objective_reaches_it() -> None:
    tracker = CompletionTracker({"TargetObjectiveMetricValue": 0.3}, "Minimize")
    assert _feed(tracker, [0.5, None, 0.31, 0.3, 0.9]) == [None, None, None, "TargetObjectiveMetricValue", "TargetObjectiveMetricValue"]
    assert tracker.reason() is CompletionReason.TARGET_REACHED
    maximize = CompletionTracker({"TargetObjectiveMetricValue": 0.9}, "Maximize")
    assert _feed(maximize, [0.5, 0.89, 0.95]) == [None, None, "TargetObjectiveMetricValue"]


def test_best_objective_not_improving_counts_trials_without_a_one_percent_gain() -> None:
    criteria = {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    tracker = CompletionTracker(criteria, "Minimize")
    # 1.0 sets the best; 0.995 is only 0.5% better; 0.98 is 1.5% better than 0.995 and resets
    reasons = _feed(tracker, [None, 1.0, 0.995, 1.2, 0.98, 0.975, None])
    assert reasons == [None, None, None, None, None, None, None]
    assert tracker.not_improving == 2 and tracker.best == 0.975
    tracker.observe(0.99)
    assert tracker.reason() == "BestObjectiveNotImproving" and tracker.not_improving == 3


def test_improvement_is_relative_to_the_magnitude_when_maximizing_negative_values() -> None:
    criteria = {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    tracker = CompletionTracker(criteria, "Maximize")
    _feed(tracker, [-10.0, -9.95, -9.8])  # +0.5% (not), then +1.5% over -9.95 (resets)
    assert tracker.not_improving == 0
    _feed(tracker, [0.0, 0.0, 0.0])  # from -9.8 to 0 is a gain; repeats of 0 are not
    assert tracker.not_improving == 2 and tracker.reason() is None
    tracker.observe(1e-9)  # any gain over a best of 0 counts
    assert tracker.not_improving == 0


def test_convergence_fires_after_a_window_without_a_one_percent_gain() -> None:
    criteria = {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}
    tracker = CompletionTracker(criteria, "Minimize")
    assert tracker.window == 10
    reasons = _feed(tracker, [1.0] + [1.0 - 0.0005 * i for i in range(1, 11)])
    assert reasons[:10] == [None] * 10 and reasons[10] == "ConvergenceDetected"


def test_small_gains_that_add_up_keep_the_job_going() -> None:
    criteria = {
        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 30},
    }
    tracker = CompletionTracker(criteria, "Minimize")
    assert _feed(tracker, [1.0 * 0.996**i for i in range(25)]) == [None] * 25
    assert tracker.not_improving == 24  # each gain alone is below 1%


def test_convergence_disabled_and_window_from_the_budget() -> None:
    tracker = CompletionTracker({"ConvergenceDetected": {"CompleteOnConvergence": "Disabled"}}, "Minimize")
    assert _feed(tracker, [1.0] * 30)[-1] is None and tracker.converged()
    assert convergence_window(None) == 10 and convergence_window(30) == 10 and convergence_window(120) == 24
    assert CompletionTracker(None, "Minimize", max_jobs=100).window == 20


def test_the_first_reason_stays() -> None:
    criteria = {"TargetObjectiveMetricValue": 0.5, "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    tracker = CompletionTracker(criteria, "Minimize")
    assert _feed(tracker, [0.4, 0.4, 0.4, 0.4])[-1] == "TargetObjectiveMetricValue"


@pytest.mark.parametrize(
    ("criteria", "member"),
    [
        ({"TargetObjectiveMetricValue": "high"}, "TuningJobCompletionCriteria.TargetObjectiveMetricValue"),
        ({"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 2}},
         "TuningJobCompletionCriteria.BestObjectiveNotImproving.MaxNumberOfTrainingJobsNotImproving"),
        ({"ConvergenceDetected": {"CompleteOnConvergence": "Yes"}},
         "TuningJobCompletionCriteria.ConvergenceDetected.CompleteOnConvergence"),
    ],
)
def test_invalid_criteria_name_the_member(criteria: dict, member: str) -> None:
    with pytest.raises(TuningConfigError) as caught:
        CompletionTracker(criteria, "Minimize")
    assert caught.value.member == member
