"""AutoML jobs: CreateAutoMLJob / V2, Describe / V2, List, Stop, ListCandidatesForAutoMLJob.

A job's record holds the V1 view of the job (what DescribeAutoMLJob answers), the V2
members given to CreateAutoMLJobV2, and under ``_sagebox`` its plan (`requests.py`) and
what its data analysis settled. Its candidates are read from its training jobs (the tuning
job's in HYPERPARAMETER_TUNING mode, the bagged models' and the ensemble's in ENSEMBLING mode)
whenever they are asked for (`candidates.py`), so they are never out of step.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sagebox.analysis.automl.problems import OBJECTIVES
from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import Executor
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.automl import candidates as candidate_views
from sagebox.services.automl import ensembling, forecast_candidates
from sagebox.services.automl.forecast_requests import plan_time_series
from sagebox.services.automl.forecast_run import ForecastRun, backtest_location
from sagebox.services.automl.requests import (
    ENSEMBLING,
    AutoMLPlan,
    check_data,
    plan_v1,
    plan_v2,
    problem_config,
    settle,
)
from sagebox.services.automl.run import AutoMLRun, job_names
from sagebox.services.errors import (
    ResourceInUse,
    ResourceNotFound,
    ServiceError,
    ValidationError,
)
from sagebox.services.families import AUTOML_JOB
from sagebox.services.hosting.endpoint_configs import EndpointConfigService
from sagebox.services.hosting.endpoints import EndpointService
from sagebox.services.hosting.models import ModelService
from sagebox.services.job_states import JobStates, SecondaryStatuses, internal, public
from sagebox.services.jobs import JobService
from sagebox.services.listing import page_of
from sagebox.services.processing import ProcessingJobService
from sagebox.services.run_threads import RunThreads
from sagebox.services.training import TrainingJobService
from sagebox.services.tuning import TuningJobService
from sagebox.store import MetadataStore, ResourceRecord

_V2_MEMBERS = (
    "AutoMLJobInputDataConfig",
    "AutoMLProblemTypeConfig",
    "DataSplitConfig",
    "SecurityConfig",
    "AutoMLComputeConfig",
)
_TRANSITIONS = "_secondary_transitions"


class AutoMLJobService(JobService[AutoMLRun]):
    family = AUTOML_JOB
    states = JobStates(
        AUTOML_JOB,
        secondary=SecondaryStatuses(
            {}, member="AutoMLJobSecondaryStatus", transitions_member=_TRANSITIONS
        ),
    )

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        executor: Executor,
        processing: ProcessingJobService,
        tuning: TuningJobService,
        training: TrainingJobService,
        models: ModelService,
        endpoint_configs: EndpointConfigService,
        endpoints: EndpointService,
    ) -> None:
        super().__init__(settings, store, objects, scheduler, executor)
        self._services = {
            "processing": processing,
            "tuning": tuning,
            "training": training,
            "models": models,
            "endpoint_configs": endpoint_configs,
            "endpoints": endpoints,
        }
        self._loops = RunThreads("automl")

    def not_found(self, name: str) -> ServiceError:
        return ResourceNotFound(f"Could not find AutoML job with name {name}.")

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            f"AutoML job names must be unique within an AWS account and region; {arn} already exists."
        )

    # -- Create -------------------------------------------------------------------------------

    def create_v2(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.create_job(request)

    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        v2 = "AutoMLProblemTypeConfig" in request
        if not v2:
            plan = plan_v1(request)
        elif problem_config(request) == "TimeSeriesForecastingJobConfig":
            plan = plan_time_series(request)
        else:
            plan = plan_v2(request)
        check_data(plan, self.context.objects)
        plan = settle(plan, self.context.objects)
        document: dict[str, Any] = {
            "AutoMLJobName": request["AutoMLJobName"],
            "AutoMLJobArn": arn,
            "InputDataConfig": _v1_channels(request, plan)
            if v2
            else copy.deepcopy(request["InputDataConfig"]),
            "OutputDataConfig": copy.deepcopy(request["OutputDataConfig"]),
            "RoleArn": request["RoleArn"],
            "AutoMLJobConfig": _v1_config(request)
            if v2
            else copy.deepcopy(request.get("AutoMLJobConfig") or {}),
            "CreationTime": now,
            "LastModifiedTime": now,
            "AutoMLJobStatus": "InProgress",
            "AutoMLJobSecondaryStatus": "Starting",
            _TRANSITIONS: [{"Status": "Starting", "StartTime": now}],
            "GenerateCandidateDefinitionsOnly": plan.generate_definitions_only,
            "_sagebox": {
                "plan": plan.to_dict(),
                "v2": v2,
                "v2_members": {k: copy.deepcopy(request[k]) for k in _V2_MEMBERS if request.get(k)},
            },
        }
        # The mode as settled (AUTO becomes ENSEMBLING or HYPERPARAMETER_TUNING), where it was given.
        tabular = (document["_sagebox"]["v2_members"].get("AutoMLProblemTypeConfig") or {}).get(
            "TabularJobConfig"
        )
        if plan.forecast is None:
            document["AutoMLJobConfig"]["Mode"] = plan.mode
        if tabular is not None:
            tabular["Mode"] = plan.mode
        if plan.problem_type:
            document["ProblemType"] = plan.problem_type
        if request.get("AutoMLJobObjective"):
            document["AutoMLJobObjective"] = copy.deepcopy(request["AutoMLJobObjective"])
        if request.get("ModelDeployConfig"):
            document["ModelDeployConfig"] = copy.deepcopy(request["ModelDeployConfig"])
        return document

    def build_run(self, record: ResourceRecord) -> AutoMLRun:
        plan = AutoMLPlan.from_dict(internal(record)["plan"])
        name = record.name
        return (ForecastRun if plan.forecast else AutoMLRun)(
            name,
            record.document,
            self.context,
            plan,
            self._services,
            on_analysis=lambda analysis: self._resolve(name, plan, analysis),
            enter=lambda secondary: self._repo.modify(name, lambda r: self._enter(r, secondary)),
            on_reports=lambda candidate, locations: self._repo.modify(
                name,
                lambda r: (
                    internal(r)
                    .setdefault("reports", {})
                    .setdefault(candidate, {})
                    .update(locations)
                ),
            ),
        )

    def _enter(self, record: ResourceRecord, secondary: str) -> None:
        """A run enters each secondary status once: a run restarted after a server restart goes
        through the steps its predecessor finished without entering their statuses again, so
        the job stays in the status it was in (a report's, say) until it moves on."""
        if secondary in (t["Status"] for t in record.document.get(_TRANSITIONS, [])):
            return
        self.states.enter(record, secondary, time.time())

    def _resolve(self, name: str, plan: AutoMLPlan, analysis: dict[str, Any]) -> None:
        """What the data analysis settled: the problem type, the objective, the criteria."""

        def settle(record: ResourceRecord) -> None:
            internal(record)["analysis"] = {
                k: analysis[k] for k in ("problem_type", "objective", "classes", "target")
            }
            if analysis["artifacts"]:  # a time-series job has no notebooks
                record.document["AutoMLJobArtifacts"] = analysis["artifacts"]
            record.document["ResolvedAttributes"] = {
                "AutoMLJobObjective": {"MetricName": analysis["objective"]},
                "ProblemType": analysis["problem_type"],
                "CompletionCriteria": plan.completion_criteria(),
            }

        self._repo.modify(name, settle)

    # -- Describe -------------------------------------------------------------------------------

    def describe(self, name: str) -> dict[str, Any]:
        """DescribeAutoMLJob: a job made by CreateAutoMLJob. SageMaker describes a job made by
        CreateAutoMLJobV2 with DescribeAutoMLJobV2 only (V1 has no place for its problem type
        config); DescribeAutoMLJobV2 describes both."""
        record = self.get(name)
        if internal(record).get("v2"):
            raise ValidationError(
                f"The AutoML job {name} was created with CreateAutoMLJobV2: describe it with "
                "DescribeAutoMLJobV2 (DescribeAutoMLJob describes jobs made by CreateAutoMLJob)."
            )
        return self._describe(record)

    def _describe(self, record: ResourceRecord) -> dict[str, Any]:
        """The V1 view of a job, whichever API made it."""
        document = public(record.document)
        best = self._best(record)
        if best is not None:
            document["BestCandidate"] = best
        return document

    def describe_v2(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        v1 = self._describe(record)
        extra = internal(record).get("v2_members") or {}
        plan = AutoMLPlan.from_dict(internal(record)["plan"])
        document: dict[str, Any] = {
            key: v1[key]
            for key in (
                "AutoMLJobName",
                "AutoMLJobArn",
                "OutputDataConfig",
                "RoleArn",
                "AutoMLJobObjective",
                "CreationTime",
                "EndTime",
                "LastModifiedTime",
                "FailureReason",
                "PartialFailureReasons",
                "BestCandidate",
                "AutoMLJobStatus",
                "AutoMLJobSecondaryStatus",
                "AutoMLJobArtifacts",
                "ModelDeployConfig",
                "ModelDeployResult",
            )
            if key in v1
        }
        document["AutoMLJobInputDataConfig"] = extra.get("AutoMLJobInputDataConfig") or [
            {
                k: v
                for k, v in channel.items()
                if k not in ("TargetAttributeName", "SampleWeightAttributeName")
            }
            for channel in v1["InputDataConfig"]
        ]
        document["AutoMLProblemTypeConfig"] = extra.get("AutoMLProblemTypeConfig") or _v2_problem(
            v1, plan
        )
        series = plan.forecast is not None
        document["AutoMLProblemTypeConfigName"] = (
            forecast_candidates.TIME_SERIES if series else "Tabular"
        )
        for key in ("DataSplitConfig", "SecurityConfig", "AutoMLComputeConfig"):
            value = extra.get(key) or v1.get("AutoMLJobConfig", {}).get(key)
            if value:
                document[key] = value
        resolved = v1.get("ResolvedAttributes")
        if resolved:
            document["ResolvedAttributes"] = {
                "AutoMLJobObjective": resolved["AutoMLJobObjective"],
                "CompletionCriteria": resolved["CompletionCriteria"],
            }
            if not series:  # the union has no member for time series
                document["ResolvedAttributes"]["AutoMLProblemTypeResolvedAttributes"] = {
                    "TabularResolvedAttributes": {"ProblemType": resolved["ProblemType"]}
                }
        return document

    # -- candidates -------------------------------------------------------------------------------

    def _context(self, record: ResourceRecord) -> candidate_views.CandidateContext | None:
        analysis = internal(record).get("analysis")
        if not analysis:
            return None
        plan = AutoMLPlan.from_dict(internal(record)["plan"])
        names = job_names(record.name, record.arn)
        steps = []
        processing = self._services["processing"]
        for step in ("analysis",) if plan.forecast else ("analysis", "features"):
            job = processing.record(names[step])
            if job is not None:
                steps.append(
                    {
                        "CandidateStepType": "AWS::SageMaker::ProcessingJob",
                        "CandidateStepArn": job.arn,
                        "CandidateStepName": job.name,
                    }
                )
        model = f"{plan.output_path.rstrip('/')}/{record.name}/data-processor-models/{names['features']}/model.tar.gz"
        objectives = (
            forecast_candidates.OBJECTIVES
            if plan.forecast
            else OBJECTIVES[analysis["problem_type"]]
        )
        return candidate_views.CandidateContext(
            analysis["problem_type"],
            objectives[analysis["objective"]],
            self._settings.region,
            steps,
            model,
        )

    def _candidates(
        self, record: ResourceRecord
    ) -> tuple[list[dict[str, Any]], candidate_views.CandidateContext | None]:
        context = self._context(record)
        if context is None:
            return [], context
        plan = AutoMLPlan.from_dict(internal(record)["plan"])
        if plan.mode == ENSEMBLING:
            trials = self._ensembling_jobs(record, plan)
        else:
            tuning = self._services["tuning"].record(job_names(record.name, record.arn)["tuning"])
            if tuning is None:
                return [], context
            trials = self._services["training"].trials_of(tuning.arn)
        reports = internal(record).get("reports") or {}
        series = context.problem_type == forecast_candidates.TIME_SERIES
        output = AutoMLPlan.from_dict(internal(record)["plan"]).output_path
        candidates = []
        steps = {t.name: _training_step(t) for t in trials}
        for trial in trials:
            if series:
                item = forecast_candidates.candidate(trial, context)
                if trial.status == "Completed":
                    locations = {
                        **reports.get(trial.name, {}),
                        "BacktestResults": backtest_location(output, record.name, trial.name),
                    }
                    item.setdefault("CandidateProperties", {})["CandidateArtifactLocations"] = (
                        locations
                    )
                candidates.append(item)
                continue
            members = (trial.document.get("HyperParameters") or {}).get("base_models", "")
            base_steps = [steps[n] for n in members.split(",") if n in steps]
            item = candidate_views.candidate(trial, context, base_steps)
            if trial.name in reports:
                item.setdefault("CandidateProperties", {})["CandidateArtifactLocations"] = dict(
                    reports[trial.name]
                )
            candidates.append(item)
        return candidates, context

    def _ensembling_jobs(self, record: ResourceRecord, plan: AutoMLPlan) -> list[ResourceRecord]:
        """ENSEMBLING's training jobs made so far: the base models', then the ensemble's."""
        names = ensembling.job_names(record.name, record.arn, plan.algorithms)
        found = (self._services["training"].record(n) for n in names.values())
        return [r for r in found if r is not None]

    def _best(self, record: ResourceRecord) -> dict[str, Any] | None:
        candidates, context = self._candidates(record)
        return candidate_views.best(candidates, context.objective) if context is not None else None

    def list_candidates(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["AutoMLJobName"])
        candidates, context = self._candidates(record)
        if request.get("StatusEquals"):
            candidates = [c for c in candidates if c["CandidateStatus"] == request["StatusEquals"]]
        if request.get("CandidateNameEquals"):
            candidates = [
                c for c in candidates if c["CandidateName"] == request["CandidateNameEquals"]
            ]
        sort_by = request.get("SortBy") or "CreationTime"
        descending = (request.get("SortOrder") or "Ascending") == "Descending"
        if sort_by == "FinalObjectiveMetricValue":
            scored = [c for c in candidates if "FinalAutoMLJobObjectiveMetric" in c]
            rest = [c for c in candidates if "FinalAutoMLJobObjectiveMetric" not in c]
            scored.sort(
                key=lambda c: c["FinalAutoMLJobObjectiveMetric"]["Value"], reverse=descending
            )
            candidates = scored + rest  # candidates without an objective value come last
        else:
            field = {"CreationTime": "CreationTime", "Status": "CandidateStatus"}[sort_by]
            candidates.sort(key=lambda c: (c[field], c["CandidateName"]), reverse=descending)
        page, token = page_of(candidates, request)
        answer: dict[str, Any] = {"Candidates": page}
        if token:
            answer["NextToken"] = token
        return answer

    # -- background -------------------------------------------------------------------------------

    def launch(self, name: str) -> None:
        """An AutoML job's run has its own thread: it holds no job slot, its step jobs take them."""
        self._loops.start(self.execute, name)

    def recover_record(self, record: ResourceRecord) -> None:
        """An AutoML job whose server stopped goes on: a new run finds the step jobs made so far
        (a tuning job resumes by itself); a job that was stopping ends Stopped."""
        if record.status == "Stopping":
            self._end(record.name, "Stopped", None)
        else:
            self._repo.modify(record.name, lambda r: internal(r).pop("launched", None))
            self.launch(record.name)

    def shutdown(self) -> None:
        super().shutdown()
        self._loops.join()


def _training_step(trial: ResourceRecord) -> dict[str, str]:
    return {
        "CandidateStepType": "AWS::SageMaker::TrainingJob",
        "CandidateStepArn": trial.arn,
        "CandidateStepName": trial.name,
    }


def _v1_channels(request: dict[str, Any], plan: AutoMLPlan) -> list[dict[str, Any]]:
    channels = []
    for channel in request["AutoMLJobInputDataConfig"]:
        item = copy.deepcopy(channel)
        item["TargetAttributeName"] = plan.target
        if plan.sample_weight:
            item["SampleWeightAttributeName"] = plan.sample_weight
        channels.append(item)
    return channels


def _v1_config(request: dict[str, Any]) -> dict[str, Any]:
    tabular = request["AutoMLProblemTypeConfig"].get("TabularJobConfig") or {}
    config: dict[str, Any] = {}
    for key in ("CompletionCriteria", "Mode"):
        if tabular.get(key):
            config[key] = copy.deepcopy(tabular[key])
    if tabular.get("CandidateGenerationConfig"):
        config["CandidateGenerationConfig"] = copy.deepcopy(tabular["CandidateGenerationConfig"])
    for key in ("DataSplitConfig", "SecurityConfig"):
        if request.get(key):
            config[key] = copy.deepcopy(request[key])
    return config


def _v2_problem(v1: dict[str, Any], plan: AutoMLPlan) -> dict[str, Any]:
    config = v1.get("AutoMLJobConfig") or {}
    tabular: dict[str, Any] = {
        "TargetAttributeName": plan.target,
        "GenerateCandidateDefinitionsOnly": plan.generate_definitions_only,
    }
    for key in ("CompletionCriteria", "Mode"):
        if config.get(key):
            tabular[key] = config[key]
    generation = config.get("CandidateGenerationConfig") or {}
    if generation.get("AlgorithmsConfig"):
        tabular["CandidateGenerationConfig"] = {"AlgorithmsConfig": generation["AlgorithmsConfig"]}
    if plan.problem_type:
        tabular["ProblemType"] = plan.problem_type
    if plan.sample_weight:
        tabular["SampleWeightAttributeName"] = plan.sample_weight
    return {"TabularJobConfig": tabular}
