"""One tuning job running: trials started from the strategy, watched, stopped, scored.

The loop keeps up to MaxParallelTrainingJobs trials running until the strategy is
exhausted, MaxNumberOfTrainingJobs have started, a completion criterion fires, the
runtime limit passes or the job is stopped. Intermediate metrics arrive from the
training runtime while trials run; Hyperband and the median stopping rule decide
on them and the loop stops the trials they condemn.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sagebox.runtime.metrics import MetricObservation
from sagebox.services.errors import ServiceError
from sagebox.services.jobs import Ending, JobContext, JobRun
from sagebox.services.training import TrainingJobService
from sagebox.services.tuning.requests import DefinitionPlan, TuningPlan, trial_request
from sagebox.services.tuning.trials import objective_of
from sagebox.tuning.completion import CompletionTracker
from sagebox.tuning.early_stopping import MedianStoppingRule
from sagebox.tuning.strategies import Decision, Strategy, make_strategy

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
TERMINAL = ("Completed", "Failed", "Stopped")


class _Lane:
    """One training job definition's strategy, median rule and trial count."""

    def __init__(self, plan: TuningPlan, definition: DefinitionPlan, warm_start: list[tuple[dict[str, str], float]]) -> None:
        self.definition = definition
        names = set(definition.space.names())
        self.strategy: Strategy = make_strategy(
            plan.strategy, definition.space, objective_type=plan.objective_type, seed=plan.seed,
            max_jobs=definition.max_jobs, hyperband=definition.hyperband, resource_name=definition.resource_name,
            warm_start=[(hps, value) for hps, value in warm_start if set(hps) == names],
        )
        self.median = MedianStoppingRule(plan.objective_type) if plan.early_stopping else None
        self.started = 0
        self.exhausted = False


# Turns how the loop ended (status, completion reason, consumed resources) into the job's ending.
EndingMaker = Callable[[str, str | None, dict[str, Any]], Ending]


class TuningRun(JobRun):
    """The loop of one tuning job. Interrupted by a server shutdown it leaves the job
    InProgress, its trials as they are, for the next server to resume."""

    def __init__(
        self,
        name: str,
        document: dict[str, Any],
        context: JobContext,
        plan: TuningPlan,
        training: TrainingJobService,
        *,
        started_at: float,
        warm_start: list[tuple[dict[str, str], float]],
        on_change: Callable[[], None],
        on_launch: Callable[[str, str | None], None] | None = None,
        ending: EndingMaker,
    ) -> None:
        super().__init__(name, document, context)
        self.arn = document["HyperParameterTuningJobArn"]
        self._automl_job_arn = (document.get("_sagebox") or {}).get("automl_job_arn")
        self.plan = plan
        self._training = training
        self._started_at = started_at
        self._on_change = on_change
        self._on_launch = on_launch
        self._ending = ending
        self._lanes = [_Lane(plan, definition, warm_start) for definition in plan.definitions]
        self._completion = CompletionTracker(
            plan.completion, plan.objective_type, max_jobs=plan.max_jobs
        )
        self._running: dict[str, tuple[_Lane, str]] = {}  # training job -> (lane, strategy trial id)
        self._condemned: set[str] = set()
        self._started = 0
        self._decide = threading.RLock()
        # The strategy, the median rule and the completion tracker are not thread-safe;
        # the loop and the training runtime's metric threads take turns through _decide.

    def resume(self, trials: list[tuple[str, str | None, str, float | None]]) -> None:
        """Pick up after a restart: ``(job, definition name, status, objective)`` of each
        trial already started, oldest first.

        Each is replayed through its definition's strategy (suggest, then observe what
        the trial really scored), so Grid and Random go on exactly where they stopped
        and the budget counts every trial; trials still in progress are watched again.
        """
        for job, definition_name, status, value in trials:
            lane = next((x for x in self._lanes if x.definition.name == definition_name), self._lanes[0])
            with self._decide:
                suggestion = lane.strategy.suggest()
                self._started += 1
                lane.started += 1
                if suggestion is None:
                    lane.exhausted = True
                    continue
                if status in TERMINAL:
                    lane.strategy.observe(suggestion.trial_id, value)
                    self._completion.observe(value)
                else:
                    with self._lock:
                        self._running[job] = (lane, suggestion.trial_id)

    # -- intermediate metrics (called from the training runtime's threads) ---------------

    def observe_metric(self, job_name: str, observation: MetricObservation) -> None:
        step = observation.step + 1  # the 1-based epoch or round this value ends
        with self._decide:
            with self._lock:
                running = self._running.get(job_name)
            if running is None:
                return  # ended and already scored: late values change nothing
            lane, trial = running
            if observation.name != lane.definition.metric_name:
                return
            decision = Decision.CONTINUE
            report = getattr(lane.strategy, "report", None)
            if report is not None:
                decision = report(trial, step, observation.value)
            if decision is Decision.CONTINUE and lane.median is not None:
                decision = lane.median.report(trial, step, observation.value)
        if decision is Decision.STOP:
            with self._lock:
                first = job_name not in self._condemned
                self._condemned.add(job_name)
            if first:  # at once, not at the loop's next beat: a trial may be seconds long
                self._stop_trial(job_name)

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> Ending:
        started_at = self._started_at
        reason: str | None = None
        exhausted = False
        while True:
            if self._stop.is_set():
                if not self.interrupted:  # a shutdown leaves the trials to their own services
                    self._stop_all()
                break
            self._collect()
            with self._decide:
                reason = self._completion.reason()
            runtime_up = self.plan.max_runtime is not None and time.time() - started_at >= self.plan.max_runtime
            if reason or runtime_up:
                reason = reason or "MaxRuntimeInSeconds"
                self._stop_all()
                break
            if not exhausted:
                exhausted = not self._launch()
            if exhausted and not self._running:
                break
            time.sleep(POLL_SECONDS)
        status = "Stopped" if self._stop.is_set() else "Completed"
        return self._ending(status, reason, {"RuntimeInSeconds": int(time.time() - started_at)})

    def conclude(self, ending: Ending) -> None:
        if not self.interrupted:
            super().conclude(ending)

    def _next_suggestion(self) -> tuple[_Lane, Any] | None:
        """The next configuration, from the definition that has started the fewest trials."""
        while True:
            open_lanes = [lane for lane in self._lanes if not lane.exhausted and lane.started < lane.definition.max_jobs]
            if not open_lanes:
                return None
            lane = min(open_lanes, key=lambda candidate: candidate.started)
            with self._decide:
                suggestion = lane.strategy.suggest()
            if suggestion is not None:
                return lane, suggestion
            lane.exhausted = True

    def _launch(self) -> bool:
        """Fills free slots; False once no more trials will start."""
        while len(self._running) < self.plan.max_parallel:
            if self._started >= self.plan.max_jobs:
                return False
            picked = self._next_suggestion()
            if picked is None:
                return False
            lane, suggestion = picked
            definition = lane.definition
            self._started += 1
            lane.started += 1
            job = f"{self.name}-{self._started:03d}-{uuid.uuid4().hex[:8]}"
            tuned = dict(suggestion.hyperparameters)
            if suggestion.resource is not None and definition.resource_name:
                tuned[definition.resource_name] = str(suggestion.resource)
            if self._on_launch is not None:
                self._on_launch(job, definition.name)
            try:
                self._training.create(
                    trial_request(definition, job, tuned),
                    tuning_job_arn=self.arn,
                    automl_job_arn=self._automl_job_arn,
                )
            except ServiceError as exc:
                log.warning("tuning job %s could not start trial %s: %s", self.name, job, exc.message)
                with self._decide:
                    lane.strategy.observe(suggestion.trial_id, None)
                    self._completion.observe(None)
                continue
            with self._lock:
                self._running[job] = (lane, suggestion.trial_id)
            self._on_change()
        return True

    def _collect(self) -> None:
        with self._lock:
            running = dict(self._running)
        for job, (lane, trial) in running.items():
            record = self._training.record(job)
            if record is None or record.status not in TERMINAL:
                continue
            value = objective_of(record, lane.definition.metric_name)
            with self._decide:
                with self._lock:  # no longer running: metric threads leave it alone
                    self._running.pop(job, None)
                    self._condemned.discard(job)
                lane.strategy.observe(trial, value)
                if lane.median is not None:
                    lane.median.complete(trial)
                self._completion.observe(value)
            self._on_change()

    def _stop_all(self) -> None:
        with self._lock:
            jobs = list(self._running)
        for job in jobs:
            self._stop_trial(job)
        deadline = time.time() + 60
        while self._running and time.time() < deadline:
            self._collect()
            time.sleep(POLL_SECONDS)

    def _stop_trial(self, job: str) -> None:
        with contextlib.suppress(ServiceError):  # it may have ended on its own meanwhile
            self._training.stop(job)
