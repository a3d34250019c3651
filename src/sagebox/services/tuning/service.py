"""Hyperparameter tuning jobs: Create / Describe / List / Stop, and their trials."""

from __future__ import annotations

import copy
import time
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import Executor
from sagebox.runtime.metrics import MetricObservation
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ResourceInUse, ServiceError, ValidationError
from sagebox.services.families import HYPER_PARAMETER_TUNING_JOB
from sagebox.services.job_states import JobStates, internal, public, touch
from sagebox.services.jobs import Ending, JobService
from sagebox.services.listing import page_of
from sagebox.services.run_threads import RunThreads
from sagebox.services.training import TrainingJobService
from sagebox.services.tuning import trials
from sagebox.services.tuning.requests import TuningPlan, plan_tuning
from sagebox.services.tuning.run import TuningRun
from sagebox.store import MetadataStore, ResourceRecord
from sagebox.tuning.errors import TuningConfigError

MAX_WARM_START_PARENTS = 5
_NOT_FOUND = "Amazon SageMaker can't find a tuning job with name {name}"


class TuningJobService(JobService[TuningRun]):
    family = HYPER_PARAMETER_TUNING_JOB
    states = JobStates(HYPER_PARAMETER_TUNING_JOB)

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        executor: Executor,
        training: TrainingJobService,
    ) -> None:
        super().__init__(settings, store, objects, scheduler, executor)
        self._training = training
        self._loops = RunThreads("tuning")
        training.metric_listeners.append(self._route_metric)

    def not_found(self, name: str) -> ServiceError:
        return ValidationError(_NOT_FOUND.format(name=name))

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            "Tuning job names must be unique within an AWS account and region, and a tuning job with "
            f"this name already exists ({arn})"
        )

    # -- API -------------------------------------------------------------------------

    def create(self, request: dict[str, Any], *, automl_job_arn: str | None = None) -> dict[str, Any]:
        """CreateHyperParameterTuningJob; an AutoML job's tuning job passes its ARN on to the
        training jobs it starts (DescribeTrainingJob's AutoMLJobArn)."""
        members = {"_sagebox": {"automl_job_arn": automl_job_arn}} if automl_job_arn else None
        return self.create_job(request, members=members)

    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        name = request["HyperParameterTuningJobName"]
        plan = plan_tuning(request)
        warm = self._warm_start(request.get("WarmStartConfig"))
        config = copy.deepcopy(request["HyperParameterTuningJobConfig"])
        config.setdefault("TrainingJobEarlyStoppingType", "Off")
        document: dict[str, Any] = {
            "HyperParameterTuningJobName": name,
            "HyperParameterTuningJobArn": arn,
            "HyperParameterTuningJobConfig": config,
            "HyperParameterTuningJobStatus": "InProgress",
            "CreationTime": now,
            "LastModifiedTime": now,
            "TrainingJobStatusCounters": trials.counters([])[0],
            "ObjectiveStatusCounters": trials.counters([])[1],
        }
        for key in ("TrainingJobDefinition", "TrainingJobDefinitions", "WarmStartConfig"):
            if request.get(key):
                document[key] = copy.deepcopy(request[key])
        if warm[1] is not None:
            document["_sagebox"] = {"parent_best": warm[1]}
        try:  # the strategies check their configuration as they are built
            self._run(document, plan, warm[0])
        except TuningConfigError as exc:
            raise ValidationError(f"HyperParameterTuningJobConfig: {exc}") from exc
        return document

    def build_run(self, record: ResourceRecord) -> TuningRun:
        """The job's loop; trials it started before a restart are replayed into it."""
        document = record.document
        request = public(copy.deepcopy(document))
        plan = plan_tuning(request)
        warm = self._warm_start(document.get("WarmStartConfig"))
        run = self._run(document, plan, warm[0])
        definitions = internal(record).get("definitions", {})
        first = plan.definitions[0].name
        run.resume([
            (t.name, definitions.get(t.name, first), t.status,
             trials.objective_of(t, plan.definition_named(definitions.get(t.name, first)).metric_name))
            for t in self._training.trials_of(record.arn)
        ])
        return run

    def _run(self, document: dict[str, Any], plan: TuningPlan, warm_start: list[tuple[dict[str, str], float]]) -> TuningRun:
        name = document["HyperParameterTuningJobName"]
        return TuningRun(
            name, document, self.context, plan, self._training,
            started_at=float(document["CreationTime"]),
            warm_start=warm_start,
            on_change=lambda: self._refresh(name),
            ending=lambda status, reason, consumed: self._ending(name, status, reason, consumed),
            on_launch=(lambda job, definition: self._note_definition(name, job, definition))
            if document.get("TrainingJobDefinitions") else None,
        )

    def describe(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        document = public(record.document)
        summaries = self._summaries(record)
        document["TrainingJobStatusCounters"], document["ObjectiveStatusCounters"] = trials.counters(summaries)
        objective_type = self._objective(record)["Type"]
        best = trials.best(summaries, objective_type)
        if best:
            document["BestTrainingJob"] = best
        if record.document.get("WarmStartConfig"):
            parent_best = internal(record).get("parent_best")
            overall = trials.best([s for s in (best, parent_best) if s], objective_type)
            if overall:
                document["OverallBestTrainingJob"] = overall
        return document

    def summary(self, record: ResourceRecord) -> dict[str, Any]:
        config = record.document["HyperParameterTuningJobConfig"]
        return {**super().summary(record), "Strategy": config["Strategy"], "ResourceLimits": config["ResourceLimits"]}

    def list_trials(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["HyperParameterTuningJobName"])
        summaries = self._summaries(record)
        if request.get("StatusEquals"):
            summaries = [s for s in summaries if s["TrainingJobStatus"] == request["StatusEquals"]]
        sort_by = request.get("SortBy") or "Name"
        descending = (request.get("SortOrder") or "Ascending") == "Descending"
        if sort_by == "FinalObjectiveMetricValue":
            scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
            unscored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" not in s]
            scored.sort(key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], reverse=descending)
            summaries = scored + unscored  # jobs without an objective come last, as SageMaker lists them
        else:
            field = {"Name": "TrainingJobName", "CreationTime": "CreationTime", "Status": "TrainingJobStatus"}[sort_by]
            summaries.sort(key=lambda s: (s[field], s["TrainingJobName"]), reverse=descending)
        page, token = page_of(summaries, request)
        return {"TrainingJobSummaries": page, "NextToken": token}

    # -- background ------------------------------------------------------------------

    def launch(self, name: str) -> None:
        """A tuning job's loop runs in its own thread; its trials take job slots."""
        self._loops.start(self.execute, name)

    def _route_metric(self, job_name: str, observation: MetricObservation) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if job_name.startswith(f"{run.name}-"):
                run.observe_metric(job_name, observation)

    def _note_definition(self, name: str, job: str, definition: str | None) -> None:
        """Remember which of TrainingJobDefinitions a trial runs (its summary names it)."""
        self._repo.modify(name, lambda r: internal(r).setdefault("definitions", {}).__setitem__(job, definition))

    def _refresh(self, name: str) -> None:
        self._repo.modify(name, lambda r: touch(r, time.time()))

    def _ending(self, name: str, status: str, reason: str | None, consumed: dict[str, Any]) -> Ending:
        """How the loop's end reads in the record: Failed when every trial failed, with the
        completion details of a job that ended on a completion criterion."""
        record = self.get(name)
        summaries = self._summaries(record)
        members: dict[str, Any] = {"ConsumedResources": consumed}
        if status == "Completed" and summaries and all(s["TrainingJobStatus"] == "Failed" for s in summaries):
            failure = (
                f"All {len(summaries)} training jobs failed; the first failed with: "
                f"{summaries[0].get('FailureReason', 'no reason given')}"
            )
            return Ending("Failed", failure, members=members)
        if reason:
            details: dict[str, Any] = {}
            if reason == "ConvergenceDetected":
                details["ConvergenceDetectedTime"] = time.time()
            details["NumberOfTrainingJobsObjectiveNotImproving"] = _not_improving(summaries, self._objective(record)["Type"])
            members["TuningJobCompletionDetails"] = details
        return Ending(status, members=members)

    def recover_record(self, record: ResourceRecord) -> None:
        """A tuning job whose server stopped (restarted, or died and another server adopted
        it) goes on: its trials so far are replayed and the loop continues; one that was
        stopping ends Stopped."""
        if record.status == "Stopping":
            self._end(record.name, "Stopped", None)
        else:
            self.launch(record.name)

    def shutdown(self) -> None:
        """Interrupts every loop (trials keep their own fate) and waits for the loops to end,
        so none starts a trial while the server goes away."""
        super().shutdown()
        self._loops.join()

    # -- helpers -----------------------------------------------------------------------

    def _warm_start(self, config: dict[str, Any] | None) -> tuple[list[tuple[dict[str, str], float]], dict[str, Any] | None]:
        if not config:
            return [], None
        parents = config["ParentHyperParameterTuningJobs"]
        if len(parents) > MAX_WARM_START_PARENTS:
            raise ValidationError(f"WarmStartConfig: at most {MAX_WARM_START_PARENTS} parent tuning jobs; {len(parents)} given.")
        observations: list[tuple[dict[str, str], float]] = []
        bests = []
        for parent in parents:
            record = self._repo.get(parent["HyperParameterTuningJobName"])
            if record is None:
                raise ValidationError(f"WarmStartConfig: parent tuning job {parent['HyperParameterTuningJobName']} does not exist.")
            if record.status == "InProgress":
                raise ValidationError(f"WarmStartConfig: parent tuning job {record.name} is still InProgress.")
            summaries = self._summaries(record)
            for item in summaries:
                metric = item.get("FinalHyperParameterTuningJobObjectiveMetric")
                if metric:
                    observations.append((item["TunedHyperParameters"], metric["Value"]))
            best = trials.best(summaries, self._objective(record)["Type"])
            if best:
                bests.append(best)
        objective_type = self._objective(self._repo.get(parents[0]["HyperParameterTuningJobName"]))["Type"]  # type: ignore[arg-type]
        return observations, trials.best(bests, objective_type)

    @staticmethod
    def _objective(record: ResourceRecord) -> dict[str, Any]:
        document = record.document
        definition = document.get("TrainingJobDefinition") or (document.get("TrainingJobDefinitions") or [{}])[0]
        return definition.get("TuningObjective") or document["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]

    def _summaries(self, record: ResourceRecord) -> list[dict[str, Any]]:
        document = record.document
        config = document["HyperParameterTuningJobConfig"]
        definitions = document.get("TrainingJobDefinitions") or [document.get("TrainingJobDefinition") or {}]
        by_name = {d.get("DefinitionName"): d for d in definitions}
        trial_definitions = internal(record).get("definitions", {})
        summaries = []
        for trial in self._training.trials_of(record.arn):
            definition_name = trial_definitions.get(trial.name, definitions[0].get("DefinitionName"))
            definition = by_name.get(definition_name, definitions[0])
            objective = definition.get("TuningObjective") or config["HyperParameterTuningJobObjective"]
            ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges") or {}
            tuned = [r["Name"] for group in ranges.values() if isinstance(group, list) for r in group]
            summaries.append(
                trials.summary(trial, record.name, objective["MetricName"], objective["Type"], tuned, definition_name)
            )
        return summaries


def _not_improving(summaries: list[dict[str, Any]], objective_type: str) -> int:
    """How many trials, counted from the end, came after the best one."""
    best = trials.best(summaries, objective_type)
    if best is None:
        return len(summaries)
    ordered = sorted(summaries, key=lambda s: s["CreationTime"])
    return len(ordered) - 1 - ordered.index(best)
