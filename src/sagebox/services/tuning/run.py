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
from sagebox.services.training import TrainingJobService
from sagebox.services.tuning.requests import TuningPlan, trial_request
from sagebox.services.tuning.trials import objective_of
from sagebox.tuning.completion import CompletionTracker
from sagebox.tuning.early_stopping import MedianStoppingRule
from sagebox.tuning.strategies import Decision, make_strategy

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
TERMINAL = ("Completed", "Failed", "Stopped")


class TuningRun:
    def __init__(
        self,
        name: str,
        arn: str,
        plan: TuningPlan,
        training: TrainingJobService,
        *,
        warm_start: list[tuple[dict[str, str], float]],
        on_change: Callable[[], None],
        finish: Callable[[str, str | None, dict[str, Any]], None],
    ) -> None:
        self.name = name
        self.arn = arn
        self.plan = plan
        self._training = training
        self._on_change = on_change
        self._finish = finish
        self._strategy = make_strategy(
            plan.strategy, plan.space, objective_type=plan.objective_type, seed=plan.seed,
            max_jobs=plan.max_jobs, hyperband=plan.hyperband, resource_name=plan.resource_name,
            warm_start=warm_start,
        )
        self._median = MedianStoppingRule(plan.objective_type) if plan.early_stopping else None
        self._completion = CompletionTracker(plan.completion, plan.objective_type)
        self._running: dict[str, str] = {}  # training job name -> strategy trial id
        self._condemned: set[str] = set()
        self._started = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()

    # -- intermediate metrics (called from the training runtime's threads) ---------------

    def observe_metric(self, job_name: str, observation: MetricObservation) -> None:
        if observation.name != self.plan.metric_name:
            return
        with self._lock:
            trial = self._running.get(job_name)
        if trial is None:
            return
        decision = Decision.CONTINUE
        report = getattr(self._strategy, "report", None)
        if report is not None:
            decision = report(trial, observation.step + 1, observation.value)
        if decision is Decision.CONTINUE and self._median is not None:
            decision = self._median.report(trial, observation.step, observation.value)
        if decision is Decision.STOP:
            with self._lock:
                first = job_name not in self._condemned
                self._condemned.add(job_name)
            if first:  # at once, not at the loop's next beat: a trial may be seconds long
                self._stop_trial(job_name)

    # -- the loop ------------------------------------------------------------------------

    def execute(self) -> None:
        started_at = time.time()
        reason: str | None = None
        exhausted = False
        while True:
            if self._stop.is_set():
                self._stop_all()
                break
            self._collect()
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
        self._finish(status, reason, {"RuntimeInSeconds": int(time.time() - started_at)})

    def _launch(self) -> bool:
        """Fills free slots; False once no more trials will start."""
        while len(self._running) < self.plan.max_parallel:
            if self._started >= self.plan.max_jobs:
                return False
            suggestion = self._strategy.suggest()
            if suggestion is None:
                return False
            self._started += 1
            job = f"{self.name}-{self._started:03d}-{uuid.uuid4().hex[:8]}"
            tuned = dict(suggestion.hyperparameters)
            if suggestion.resource is not None and self.plan.resource_name:
                tuned[self.plan.resource_name] = str(suggestion.resource)
            try:
                self._training.create(trial_request(self.plan, job, tuned), tuning_job_arn=self.arn)
            except ServiceError as exc:
                log.warning("tuning job %s could not start trial %s: %s", self.name, job, exc.message)
                self._strategy.observe(suggestion.trial_id, None)
                self._completion.observe(None)
                continue
            with self._lock:
                self._running[job] = suggestion.trial_id
            self._on_change()
        return True

    def _collect(self) -> None:
        with self._lock:
            running = dict(self._running)
        for job, trial in running.items():
            record = self._training.record(job)
            if record is None or record.status not in TERMINAL:
                continue
            value = objective_of(record, self.plan.metric_name)
            self._strategy.observe(trial, value)
            if self._median is not None:
                self._median.complete(trial)
            self._completion.observe(value)
            with self._lock:
                self._running.pop(job, None)
                self._condemned.discard(job)
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
