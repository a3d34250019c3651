"""Hyperparameter tuning jobs: Create / Describe / List / Stop, and their trials."""

from __future__ import annotations

import copy
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sagebox.config import Settings
from sagebox.services.errors import ResourceInUse, ValidationError
from sagebox.services.listing import list_resources
from sagebox.services.training import TrainingJobService
from sagebox.services.tuning import trials
from sagebox.services.tuning.requests import plan_tuning
from sagebox.services.tuning.run import TuningRun
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord
from sagebox.tuning.errors import TuningConfigError

log = logging.getLogger(__name__)

KIND = "HyperParameterTuningJob"
MAX_WARM_START_PARENTS = 5
_SUMMARY_FIELDS = (
    "HyperParameterTuningJobName", "HyperParameterTuningJobArn", "HyperParameterTuningJobStatus",
    "CreationTime", "HyperParameterTuningEndTime", "LastModifiedTime", "TrainingJobStatusCounters",
    "ObjectiveStatusCounters",
)
_NOT_FOUND = "Amazon SageMaker can't find a tuning job with name {name}"


class TuningJobService:
    def __init__(self, settings: Settings, store: MetadataStore, training: TrainingJobService) -> None:
        self._settings = settings
        self._store = store
        self._repo = store.resources(KIND)
        self._training = training
        self._runs: dict[str, TuningRun] = {}
        self._lock = threading.Lock()
        training.metric_listeners.append(self._route_metric)

    # -- API -------------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["HyperParameterTuningJobName"]
        plan = plan_tuning(request)
        warm = self._warm_start(request.get("WarmStartConfig"))
        arn = self._settings.arn(f"hyper-parameter-tuning-job/{name.lower()}")
        now = time.time()
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
        try:
            run = TuningRun(
                name, arn, plan, self._training, warm_start=warm[0],
                on_change=lambda: self._refresh(name), finish=lambda s, r, c: self._conclude(name, s, r, c),
                on_launch=(lambda job, definition: self._note_definition(name, job, definition))
                if request.get("TrainingJobDefinitions") else None,
            )
        except TuningConfigError as exc:
            raise ValidationError(f"HyperParameterTuningJobConfig: {exc}") from exc
        moment = datetime.fromtimestamp(now, tz=UTC)
        record = ResourceRecord(KIND, name, arn, "InProgress", moment, moment, document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ResourceInUse(f"Tuning job names must be unique within an AWS account and region, and a tuning job with this name already exists ({arn})") from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        with self._lock:
            self._runs[name] = run
        threading.Thread(target=self._execute, args=(run,), name=f"tuning-{name}", daemon=True).start()
        if warm[1] is not None:
            self._repo.modify(name, lambda r: r.document.setdefault("_sagebox", {}).update(parent_best=warm[1]))
        return {"HyperParameterTuningJobArn": arn}

    def describe(self, name: str) -> dict[str, Any]:
        record = self._get(name)
        document = {k: v for k, v in record.document.items() if not k.startswith("_")}
        summaries = self._summaries(record)
        document["TrainingJobStatusCounters"], document["ObjectiveStatusCounters"] = trials.counters(summaries)
        objective_type = self._objective(record)["Type"]
        best = trials.best(summaries, objective_type)
        if best:
            document["BestTrainingJob"] = best
        if record.document.get("WarmStartConfig"):
            parent_best = record.document.get("_sagebox", {}).get("parent_best")
            overall = trials.best([s for s in (best, parent_best) if s], objective_type)
            if overall:
                document["OverallBestTrainingJob"] = overall
        return document

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        summaries, token = list_resources(self._repo, request, summary_fields=_SUMMARY_FIELDS)
        return {"HyperParameterTuningJobSummaries": summaries, "NextToken": token}

    def list_trials(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self._get(request["HyperParameterTuningJobName"])
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
        start = 0
        if request.get("NextToken"):
            try:
                start = int(request["NextToken"])
            except ValueError as exc:
                raise ValidationError(f"Invalid pagination token: {request['NextToken']!r}") from exc
        size = request.get("MaxResults") or 10
        token = str(start + size) if start + size < len(summaries) else None
        return {"TrainingJobSummaries": summaries[start : start + size], "NextToken": token}

    def stop(self, name: str) -> dict[str, Any]:
        def stopping(record: ResourceRecord) -> None:
            if record.status != "InProgress":
                raise ValidationError(
                    f"The hyperparameter tuning job {name} is {record.status}; only an InProgress tuning job can be stopped."
                )
            self._set_status(record, "Stopping")

        try:
            self._repo.modify(name, stopping)
        except NotFound as exc:
            raise ValidationError(_NOT_FOUND.format(name=name)) from exc
        with self._lock:
            run = self._runs.get(name)
        if run is not None:
            run.stop()
        return {}

    # -- background ------------------------------------------------------------------

    def _execute(self, run: TuningRun, started_at: float | None = None) -> None:
        try:
            run.execute(started_at)
        except Exception as exc:
            log.exception("tuning job %s failed inside sagebox", run.name)
            self._conclude(run.name, "Failed", f"InternalServerError: {exc!r}", {})
        finally:
            with self._lock:
                self._runs.pop(run.name, None)

    def _route_metric(self, job_name: str, observation: Any) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if job_name.startswith(f"{run.name}-"):
                run.observe_metric(job_name, observation)

    def _note_definition(self, name: str, job: str, definition: str | None) -> None:
        """Remember which of TrainingJobDefinitions a trial runs (its summary names it)."""

        def note(record: ResourceRecord) -> None:
            record.document.setdefault("_sagebox", {}).setdefault("definitions", {})[job] = definition

        self._repo.modify(name, note)

    def _refresh(self, name: str) -> None:
        self._repo.modify(name, lambda r: self._touch(r))

    def _conclude(self, name: str, status: str, reason: str | None, consumed: dict[str, Any]) -> None:
        record = self._get(name)
        summaries = self._summaries(record)
        objective_type = self._objective(record)["Type"]
        failed = summaries and all(s["TrainingJobStatus"] == "Failed" for s in summaries)

        def concluded(r: ResourceRecord) -> None:
            now = time.time()
            final = status
            if failed and status == "Completed":
                final = "Failed"
                r.document["FailureReason"] = (
                    f"All {len(summaries)} training jobs failed; the first failed with: "
                    f"{summaries[0].get('FailureReason', 'no reason given')}"
                )[:1024]
            if status == "Failed" and reason:
                r.document["FailureReason"] = reason[:1024]
            r.document["HyperParameterTuningEndTime"] = now
            r.document["ConsumedResources"] = consumed
            if reason and status != "Failed":
                details: dict[str, Any] = {}
                if reason == "ConvergenceDetected":
                    details["ConvergenceDetectedTime"] = now
                details["NumberOfTrainingJobsObjectiveNotImproving"] = _not_improving(summaries, objective_type)
                r.document["TuningJobCompletionDetails"] = details
            self._set_status(r, final)

        self._repo.modify(name, concluded)

    def recover(self) -> None:
        """After a restart, tuning jobs go on: their trials so far are replayed and the
        loop continues; one that was stopping ends Stopped."""
        for record in self._repo.list_by_status(["InProgress", "Stopping"]):
            if record.status == "Stopping":
                self._repo.modify(record.name, lambda r: self._set_status(r, "Stopped"))
                continue
            try:
                self._resume(record)
            except Exception as exc:  # a document this version cannot plan any more
                log.exception("tuning job %s could not resume", record.name)
                reason = f"InternalServerError: the tuning job could not resume after a restart: {exc}"
                self._conclude(record.name, "Failed", reason, {})

    def _resume(self, record: ResourceRecord) -> None:
        document = record.document
        request = {k: copy.deepcopy(v) for k, v in document.items() if not k.startswith("_")}
        plan = plan_tuning(request)
        warm = self._warm_start(document.get("WarmStartConfig"))
        name = record.name
        run = TuningRun(
            name, record.arn, plan, self._training, warm_start=warm[0],
            on_change=lambda: self._refresh(name), finish=lambda s, r, c: self._conclude(name, s, r, c),
            on_launch=(lambda job, definition: self._note_definition(name, job, definition))
            if document.get("TrainingJobDefinitions") else None,
        )
        definitions = document.get("_sagebox", {}).get("definitions", {})
        first = plan.definitions[0].name
        run.resume([
            (t.name, definitions.get(t.name, first), t.status, trials.objective_of(t, plan.definition_named(definitions.get(t.name, first)).metric_name))
            for t in self._training.trials_of(record.arn)
        ])
        with self._lock:
            self._runs[name] = run
        started = float(document["CreationTime"])
        threading.Thread(target=self._execute, args=(run, started), name=f"tuning-{name}", daemon=True).start()

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop()

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

    def _get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise ValidationError(_NOT_FOUND.format(name=name))
        return record

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
        trial_definitions = document.get("_sagebox", {}).get("definitions", {})
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

    @staticmethod
    def _set_status(record: ResourceRecord, status: str) -> None:
        record.status = status
        record.document["HyperParameterTuningJobStatus"] = status
        TuningJobService._touch(record)

    @staticmethod
    def _touch(record: ResourceRecord) -> None:
        now = time.time()
        record.document["LastModifiedTime"] = now
        record.last_modified_time = datetime.fromtimestamp(now, tz=UTC)


def _not_improving(summaries: list[dict[str, Any]], objective_type: str) -> int:
    """How many trials, counted from the end, came after the best one."""
    best = trials.best(summaries, objective_type)
    if best is None:
        return len(summaries)
    ordered = sorted(summaries, key=lambda s: s["CreationTime"])
    return len(ordered) - 1 - ordered.index(best)
