"""One AutoML job's run: its steps as the jobs SageMaker shows, one after the other.

AnalyzingData is a processing job on Autopilot's image (check the table, settle the
problem type, split), FeatureEngineering another (fit the preprocessing, transform the
splits), ModelTuning a hyperparameter tuning job whose training jobs are the candidates,
and, with ModelDeployConfig, DeployingModel makes the best candidate's endpoint. Each
step's job has a name fixed by the AutoML job, so a run restarted after a server restart
finds the jobs its predecessor made and goes on from there.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from sagebox.algorithms.automl_ensemble.spec import ENSEMBLE
from sagebox.algorithms.xgboost.metrics import WEIGHTED_METRICS_VARIABLE
from sagebox.analysis.automl import search_space
from sagebox.analysis.automl.notebooks import CANDIDATE_NOTEBOOK, EXPLORATION_NOTEBOOK
from sagebox.analysis.automl.problems import OBJECTIVES
from sagebox.objects import parse_s3_uri
from sagebox.services.automl import candidates as candidate_views
from sagebox.services.automl import ensembling
from sagebox.services.automl.requests import ENSEMBLING, AutoMLPlan
from sagebox.services.errors import ServiceError
from sagebox.services.jobs import Ending, JobContext, JobFailure, JobRun
from sagebox.store import ResourceRecord

POLL_SECONDS = 0.25
TERMINAL = ("Completed", "Failed", "Stopped")
PROCESSING_INSTANCE = {"InstanceCount": 1, "InstanceType": "ml.m5.2xlarge", "VolumeSizeInGB": 30}
TRAINING_INSTANCE = {"InstanceCount": 1, "InstanceType": "ml.m5.4xlarge", "VolumeSizeInGB": 30}
MAX_PARALLEL_CANDIDATES = 4
REPORT_STEPS = (
    ("GeneratingExplainabilityReport", "explainability", "Explainability"),
    ("GeneratingModelInsightsReport", "insights", "ModelInsights"),
)
"""SageMaker's report statuses in its order: (secondary status, the reports step's --part and
its processing job's key in `job_names`, the CandidateArtifactLocations member it makes)."""
REPORT_ATTEMPTS = 3
"""A report's processing job interrupted by a server restart is made again (``-2-``, ...)."""
ENSEMBLE_REPORT_SECONDS = 60.0
"""At most this long for the SHAP values of ENSEMBLING's candidates (and at most 30% of the
time left, and half the longest candidate's training time, 10 s at least)."""
log = logging.getLogger(__name__)


def job_names(name: str, arn: str) -> dict[str, str]:
    """The names of a job's step jobs (fixed, so that a restarted run finds them)."""
    digest = hashlib.sha1(arn.encode()).hexdigest()[:8]
    return {
        "analysis": f"{name}-db-1-{digest}",
        "features": f"{name}-dpp0-1-{digest}",
        "tuning": f"{name[:19].rstrip('-')}-{digest}-tj",
        "endpoint": f"{name}-{digest}",
        "explainability": f"{name}-explainability-1-{digest}",
        "insights": f"{name}-insights-1-{digest}",
    }


def output_layout(plan: AutoMLPlan, name: str) -> dict[str, str]:
    base = f"{plan.output_path.rstrip('/')}/{name}"
    return {
        "split": f"{base}/data-split",
        "preprocessed": f"{base}/preprocessed-data",
        "models": f"{base}/data-processor-models",
        "tuning": f"{base}/tuning",
        "documentation": f"{base}/documentation",
        "notebooks": f"{base}/sagemaker-automl-candidates/notebooks",
        "ensembling": f"{base}/ensembling",
    }


class AutoMLRun(JobRun):
    def __init__(
        self,
        name: str,
        document: dict[str, Any],
        context: JobContext,
        plan: AutoMLPlan,
        services: dict[str, Any],
        on_analysis: Callable[[dict[str, Any]], None],
        enter: Callable[[str], None],
        on_reports: Callable[[str, dict[str, str]], None],
    ) -> None:
        super().__init__(name, document, context)
        self.plan = plan
        self.arn = document["AutoMLJobArn"]
        self.names = job_names(name, self.arn)
        self.layout = output_layout(plan, name)
        self._processing = services["processing"]
        self._tuning = services["tuning"]
        self._training = services["training"]
        self._hosting = services
        self._on_analysis = on_analysis
        self._on_reports = on_reports
        self._enter = enter
        self._deadline = float(document["CreationTime"]) + plan.max_job_runtime
        self._region = context.settings.region
        self._slots = context.settings.max_concurrent_jobs

    # -- the steps ------------------------------------------------------------------------

    def run(self) -> Ending:
        self._enter("AnalyzingData")
        ended = self._step(self._processing, self.names["analysis"], self._analysis_request)
        if ended is not None:
            return ended
        analysis = self._read_json(f"{self.layout['split']}/analysis/analysis.json")
        notebooks = self.layout["notebooks"]
        artifacts = {
            "CandidateDefinitionNotebookLocation": f"{notebooks}/{CANDIDATE_NOTEBOOK}",
            "DataExplorationNotebookLocation": f"{notebooks}/{EXPLORATION_NOTEBOOK}",
        }
        self._on_analysis({**analysis, "artifacts": artifacts})
        self._enter("FeatureEngineering")
        ended = self._step(self._processing, self.names["features"], self._features_request)
        if ended is not None:
            return ended
        if self.plan.generate_definitions_only:
            return Ending("Completed", secondary="CandidateDefinitionsGenerated")
        if self.plan.mode == ENSEMBLING:
            self._enter("TrainingModels")
            ended, trials = self._ensembling(analysis)
        else:
            self._enter("ModelTuning")
            ended = self._step(
                self._tuning, self.names["tuning"], lambda: self._tuning_request(analysis)
            )
            tuning = self._tuning.record(self.names["tuning"])
            trials = self._training.trials_of(tuning.arn) if tuning is not None else []
        if ended is not None and ended.status == "Stopped":
            return ended
        completed, members, failure = self._outcome(trials, ended)
        if failure is not None:
            return failure
        best = self._best(analysis, completed)
        if best is None:
            return Ending(
                "Failed", "No candidate reported a value of the objective metric.", members=members
            )
        # Out of time: the job ends with what it has, without its reports.
        # HPO's reports read an XGBoost booster: Linear Learner candidates have none.
        # ENSEMBLING's are model-agnostic, for every candidate on the leaderboard.
        problems: list[tuple[str, Ending]] = []
        if self.plan.mode == ENSEMBLING:
            problems = self._ensemble_reports(analysis, completed)
        elif "sagemaker-xgboost" in best["InferenceContainers"][1]["Image"]:
            problems = self._reports(analysis, best)
        stopped = self._note_report_problems(problems, members)
        if stopped is not None:
            return stopped
        if self.plan.deploy:
            self._enter("DeployingModel")
            members["ModelDeployResult"] = self._deploy(best)
        if time.time() >= self._deadline:
            return Ending("Completed", secondary="MaxAutoMLJobRuntimeReached", members=members)
        if self.plan.mode != ENSEMBLING and len(trials) >= self.plan.max_candidates:
            return Ending("Completed", secondary="MaxCandidatesReached", members=members)
        return Ending("Completed", members=members)

    def _step(
        self, service: Any, name: str, request: Callable[[], dict[str, Any]]
    ) -> Ending | None:
        """Creates the step's job (unless a previous run did) and waits for its end; an Ending
        when the AutoML job ends here (stopped, out of time, or the step failed)."""
        if service.record(name) is None:
            if self.stopping:
                return self.stopped_ending()
            # Processing jobs carry AutoMLJobArn; the tuning job passes it to its training jobs.
            if service is self._processing:
                service.create(request(), links={"AutoMLJobArn": self.arn})
            else:
                service.create(request(), automl_job_arn=self.arn)
        record = self._wait(service, name)
        if record.status == "Completed":
            return None
        if self.stopping:
            return self.stopped_ending()
        if time.time() >= self._deadline:
            return Ending(
                "Failed",
                f"MaxAutoMLJobRuntimeInSeconds ({self.plan.max_job_runtime} s) was reached "
                f"during {service.family.noun} {name}.",
            )
        reason = str(
            record.document.get("FailureReason")
            or f"the {service.family.noun} {name} ended {record.status}"
        )
        return Ending("Failed", reason.removeprefix("AlgorithmError: "))

    def _wait(self, service: Any, name: str) -> ResourceRecord:
        stop_sent = False
        while True:
            record = service.record(name)
            if record is None:
                raise JobFailure(
                    f"InternalServerError: the {service.family.noun} {name} disappeared."
                )
            if record.status in TERMINAL or self.interrupted:
                # A shutdown leaves the step's job to its own service: the next server goes on.
                return record
            if not stop_sent and (self.stopping or time.time() >= self._deadline):
                with contextlib.suppress(ServiceError):  # it may have ended meanwhile
                    service.stop(name)
                stop_sent = True
            time.sleep(POLL_SECONDS)

    def conclude(self, ending: Ending) -> None:
        """A run interrupted by a shutdown leaves its job InProgress: the next server resumes it."""
        if not self.interrupted:
            super().conclude(ending)

    def _ensembling(self, analysis: dict[str, Any]) -> tuple[Ending | None, list[ResourceRecord]]:
        """ENSEMBLING's TrainingModels: the base models' training jobs side by side (layer 1),
        the stackers' over those that completed when time allows (layer 2), then the weighted
        ensemble's over every model that completed; the jobs' records in that order."""
        names = ensembling.job_names(self.name, self.arn, self.plan.algorithms)
        chosen, limit = ensembling.plan_base_models(
            self._deadline - time.time(),
            self.plan.max_runtime_per_training_job,
            self.plan.algorithms,
            self._slots,
            analysis["problem_type"],
        )
        # A restarted run keeps the jobs its predecessor started, whatever time is left.
        base = {
            a: n
            for a, n in ensembling.layer_one(names).items()
            if a in chosen or self._training.record(n) is not None
        }

        def records() -> list[ResourceRecord]:
            found = (self._training.record(n) for n in names.values())
            return [r for r in found if r is not None]

        def create(job: str, algorithm: str, limit: float, **extra: Any) -> None:
            self._training.create(
                ensembling.request(
                    job_name=job,
                    algorithm=algorithm,
                    analysis=analysis,
                    layout=self.layout,
                    role_arn=self.plan.role_arn,
                    region=self._region,
                    max_runtime=self.plan.max_runtime_per_training_job,
                    time_limit=limit,
                    **extra,
                ),
                automl_job_arn=self.arn,
            )

        def run_wave(jobs: dict[str, str], limit: float, **extra: Any) -> list[str] | None:
            """Creates the jobs not made yet, waits for all; the completed ones (None: stopping)."""
            for algorithm, job in jobs.items():
                if self._training.record(job) is None:
                    if self.stopping:
                        return None
                    create(job, algorithm, limit, **extra)
            for job in jobs.values():
                self._wait(self._training, job)
            if self.stopping:
                return None
            return [n for n in jobs.values() if self._training.record(n).status == "Completed"]

        completed = run_wave(base, limit)
        if completed is None:
            return self.stopped_ending(), records()
        remaining = self._deadline - time.time()
        if not completed and remaining <= 0:
            return Ending(
                "Failed",
                f"MaxAutoMLJobRuntimeInSeconds ({self.plan.max_job_runtime} s) was reached before "
                "any base model finished training.",
            ), records()
        notes = ""
        if completed:
            stack = ensembling.layer_two(names)
            started = {a: n for a, n in stack.items() if self._training.record(n) is not None}
            stackers, stack_limit, notes = ensembling.plan_stackers(
                remaining, self.plan.max_runtime_per_training_job, tuple(stack), self._slots
            )
            wave = {a: n for a, n in stack.items() if a in stackers or a in started}
            if notes and not wave:
                log.info("AutoML job %s: %s", self.name, notes)
            stacked = run_wave(wave, stack_limit, base_jobs=completed, stack_level=2)
            if stacked is None:
                return self.stopped_ending(), records()
            completed += stacked
        remaining = self._deadline - time.time()
        if completed and remaining > 1 and self._training.record(names[ENSEMBLE]) is None:
            budget = min(float(self.plan.max_runtime_per_training_job), remaining)
            create(
                names[ENSEMBLE],
                ENSEMBLE,
                ensembling.LIMIT_MARGIN * budget,
                base_jobs=completed,
                notes=notes or "",
            )
        if self._training.record(names[ENSEMBLE]) is not None:
            self._wait(self._training, names[ENSEMBLE])
        if self.stopping:
            return self.stopped_ending(), records()
        return None, records()

    # -- the steps' requests -----------------------------------------------------------------

    def _remaining(self) -> int:
        # Rounded up: a step's own limit then never ends it before the job's deadline, which
        # would read as the step failing rather than as MaxAutoMLJobRuntimeInSeconds reached.
        return max(1, math.ceil(self._deadline - time.time()))

    def _processing_request(
        self, name: str, arguments: list[str], inputs: dict[str, str], outputs: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "ProcessingJobName": name,
            "ProcessingInputs": [
                {
                    "InputName": input_name,
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": f"/opt/ml/processing/input/{input_name}",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
                for input_name, uri in inputs.items()
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": output_name,
                        "S3Output": {
                            "S3Uri": uri,
                            "LocalPath": f"/opt/ml/processing/output/{output_name}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for output_name, uri in outputs.items()
                ]
            },
            "ProcessingResources": {"ClusterConfig": dict(PROCESSING_INSTANCE)},
            "StoppingCondition": {"MaxRuntimeInSeconds": min(self._remaining(), 604_800)},
            "AppSpecification": {
                "ImageUri": candidate_views.automl_image(self._region),
                "ContainerArguments": arguments,
            },
            "RoleArn": self.plan.role_arn,
        }

    def _analysis_request(self) -> dict[str, Any]:
        plan = self.plan
        arguments = [
            "analyze",
            "--target",
            plan.target,
            "--validation-fraction",
            str(plan.validation_fraction),
        ]
        for flag, value in (
            ("--problem-type", plan.problem_type),
            ("--objective", plan.objective),
            ("--sample-weight", plan.sample_weight),
        ):
            if value:
                arguments += [flag, value]
        training = next(c for c in plan.channels if c.channel == "training")
        if training.compression:
            arguments += ["--compression", training.compression]
        inputs = {"data" if c.channel == "training" else "validation": c.uri for c in plan.channels}
        outputs = {
            part: f"{self.layout['split']}/{part}" for part in ("train", "validation", "analysis")
        }
        outputs["notebooks"] = self.layout["notebooks"]
        return self._processing_request(self.names["analysis"], arguments, inputs, outputs)

    def _features_request(self) -> dict[str, Any]:
        split = self.layout["split"]
        inputs = {part: f"{split}/{part}" for part in ("train", "validation", "analysis")}
        outputs = {
            "model": f"{self.layout['models']}/{self.names['features']}",
            "train": f"{self.layout['preprocessed']}/train",
            "validation": f"{self.layout['preprocessed']}/validation",
        }
        return self._processing_request(self.names["features"], ["features"], inputs, outputs)

    def _tuning_request(self, analysis: dict[str, Any]) -> dict[str, Any]:
        problem_type, objective = analysis["problem_type"], analysis["objective"]

        def channel(name: str) -> dict[str, Any]:
            return {
                "ChannelName": name,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"{self.layout['preprocessed']}/{name}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }

        def definition(image: str, static: dict[str, str]) -> dict[str, Any]:
            return {
                "StaticHyperParameters": static,
                "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
                "RoleArn": self.plan.role_arn,
                "InputDataConfig": [channel("train"), channel("validation")],
                "OutputDataConfig": {"S3OutputPath": self.layout["tuning"]},
                "ResourceConfig": dict(TRAINING_INSTANCE),
                "StoppingCondition": {
                    "MaxRuntimeInSeconds": self.plan.max_runtime_per_training_job
                },
            }

        candidates = self.plan.max_candidates
        config: dict[str, Any] = {
            "Strategy": "Bayesian",
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": candidates,
                "MaxParallelTrainingJobs": min(candidates, MAX_PARALLEL_CANDIDATES),
                "MaxRuntimeInSeconds": max(120, self._remaining()),
            },
            "RandomSeed": search_space.SEED,
            "TrainingJobEarlyStoppingType": "Off",
        }
        static = search_space.static_hyperparameters(
            problem_type, objective, len(analysis["classes"])
        )
        weighted = bool(analysis.get("sample_weight"))
        if weighted:
            static["csv_weights"] = "1"  # the preprocessed rows carry the weight after the label
        xgboost = definition(candidate_views.xgboost_image(self._region), static)
        if weighted:
            # The objective (F1, Accuracy, ...: metrics the container computes) weighed by the
            # sample weights too, as Autopilot weighs it and as ENSEMBLING's metrics are.
            xgboost["Environment"] = {WEIGHTED_METRICS_VARIABLE: "1"}
        request: dict[str, Any] = {"HyperParameterTuningJobName": self.names["tuning"]}
        if self.plan.algorithms == (search_space.XGBOOST,):
            config["HyperParameterTuningJobObjective"] = search_space.tuning_objective(
                problem_type, objective
            )
            config["ParameterRanges"] = copy.deepcopy(search_space.PARAMETER_RANGES)
            return {
                **request,
                "HyperParameterTuningJobConfig": config,
                "TrainingJobDefinition": xgboost,
            }
        definitions = []
        if search_space.XGBOOST in self.plan.algorithms:
            xgboost["DefinitionName"] = search_space.XGBOOST
            xgboost["TuningObjective"] = search_space.tuning_objective(problem_type, objective)
            xgboost["HyperParameterRanges"] = copy.deepcopy(search_space.PARAMETER_RANGES)
            definitions.append(xgboost)
        linear_objective = search_space.linear_learner_objective(problem_type, objective)
        if search_space.LINEAR_LEARNER in self.plan.algorithms and linear_objective is not None:
            linear = definition(
                candidate_views.linear_learner_image(self._region),
                search_space.linear_learner_hyperparameters(problem_type, len(analysis["classes"])),
            )
            linear.update(
                {
                    "DefinitionName": search_space.LINEAR_LEARNER,
                    "TuningObjective": linear_objective,
                    "HyperParameterRanges": copy.deepcopy(search_space.LINEAR_LEARNER_RANGES),
                }
            )
            definitions.append(linear)
        if not definitions:
            raise JobFailure(
                f"ClientError: linear-learner candidates cannot be tuned on the objective {objective}; "
                "choose another AutoMLJobObjective or add xgboost to AlgorithmsConfig."
            )
        return {
            **request,
            "HyperParameterTuningJobConfig": config,
            "TrainingJobDefinitions": definitions,
        }

    # -- deployment ----------------------------------------------------------------------------

    @staticmethod
    def _outcome(
        trials: list[ResourceRecord], ended: Ending | None
    ) -> tuple[list[ResourceRecord], dict[str, Any], Ending | None]:
        """The candidates' training jobs that completed, PartialFailureReasons for those that
        failed, and the job's failure when none completed."""
        completed = [t for t in trials if t.status == "Completed"]
        if not completed:
            first = next(
                (
                    t.document.get("FailureReason")
                    for t in trials
                    if t.document.get("FailureReason")
                ),
                None,
            )
            reason = (ended.reason if ended is not None and ended.reason else None) or (
                f"All {len(trials)} candidates failed"
                + (f"; the first failed with: {first}" if first else ".")
            )
            return completed, {}, Ending("Failed", reason)
        members: dict[str, Any] = {}
        failed = [t for t in trials if t.status == "Failed"]
        if failed:
            members["PartialFailureReasons"] = [
                {
                    "PartialFailureMessage": f"Candidate {t.name} failed: {t.document.get('FailureReason', '')}"[
                        :1024
                    ]
                }
                for t in failed[:5]
            ]
        return completed, members, None

    def _best(
        self, analysis: dict[str, Any], completed: list[ResourceRecord]
    ) -> dict[str, Any] | None:
        context = candidate_views.CandidateContext(
            analysis["problem_type"],
            OBJECTIVES[analysis["problem_type"]][analysis["objective"]],
            self._region,
            [],
            self._preprocessing_model(),
        )
        return candidate_views.best(
            [candidate_views.candidate(t, context) for t in completed], context.objective
        )

    def _preprocessing_model(self) -> str:
        return f"{self.layout['models']}/{self.names['features']}/model.tar.gz"

    def _reports(self, analysis: dict[str, Any], best: dict[str, Any]) -> list[tuple[str, Ending]]:
        """The best candidate's explainability report, then its model insights report."""
        candidate = best["CandidateName"]
        locations = self._report_locations(candidate)
        inputs = {
            "analysis": f"{self.layout['split']}/analysis",
            "validation": f"{self.layout['preprocessed']}/validation",
            "model": best["InferenceContainers"][1]["ModelDataUrl"],
        }
        return self._report_steps(
            "reports",
            {
                "explainability": {**inputs, "preprocessing": self._preprocessing_model()},
                "insights": inputs,
            },
            {
                "explainability": {"explainability": locations["Explainability"]},
                "insights": {"insights": locations["ModelInsights"]},
            },
            [candidate],
        )

    def _report_steps(
        self,
        command: str,
        inputs: dict[str, dict[str, str]],
        outputs: dict[str, dict[str, str]],
        candidates: list[str],
        arguments: dict[str, list[str]] | None = None,
    ) -> list[tuple[str, Ending]]:
        """The reports in SageMaker's order, each in its own secondary status and processing
        job (``<command> --part <part>``), while time is left; a report whose job failed does
        not keep the next from being made. The parts that did not end well and how (a
        stopped job ends the list). A restarted run finds the jobs made before and goes on."""
        problems: list[tuple[str, Ending]] = []
        for status, part, member in REPORT_STEPS:
            if time.time() >= self._deadline:
                break  # out of time: the job ends with the reports it has
            self._enter(status)
            name = self._report_job(part)
            given = [command, "--part", part, *(arguments or {}).get(part, [])]
            ended = self._step(
                self._processing,
                name,
                lambda name=name, given=given, part=part: self._processing_request(
                    name, given, inputs[part], outputs[part]
                ),
            )
            if ended is None:
                for candidate in candidates:
                    self._on_reports(candidate, {member: self._report_locations(candidate)[member]})
                continue
            problems.append((part, ended))
            if ended.status == "Stopped":
                break
        return problems

    def _report_job(self, part: str) -> str:
        """The name of the report's processing job: ``<job>-<part>-<attempt>-<hash>``. A run
        restarted after a server restart that interrupted the job (which then ended Failed,
        saying so) makes it again as the next attempt, so the report is still made."""
        prefix, _, digest = self.names[part].rpartition("-1-")
        interrupted = self._processing.states.server_stopped_reason
        for attempt in range(1, REPORT_ATTEMPTS + 1):
            name = f"{prefix}-{attempt}-{digest}"
            record = self._processing.record(name)
            if record is None or record.document.get("FailureReason") != interrupted:
                return name
        return name

    @staticmethod
    def _note_report_problems(
        problems: list[tuple[str, Ending]], members: dict[str, Any]
    ) -> Ending | None:
        """A report that could not be made is a PartialFailureReason; a stopped job's Ending."""
        for part, problem in problems:
            if problem.status == "Stopped":
                return problem
            report = "explainability" if part == "explainability" else "model insights"
            members.setdefault("PartialFailureReasons", []).append(
                {
                    "PartialFailureMessage": (
                        f"The {report} report could not be made: {problem.reason}"
                    )[:1024]
                }
            )
        return None

    def _report_locations(self, candidate: str) -> dict[str, str]:
        documentation = self.layout["documentation"]
        return {
            "Explainability": f"{documentation}/explainability/{candidate}/output",
            "ModelInsights": f"{documentation}/model-insights/{candidate}/output",
        }

    def _put_json(self, uri: str, content: dict[str, Any]) -> None:
        bucket, key = parse_s3_uri(uri)
        self._objects.put_object(bucket, key, json.dumps(content, indent=1).encode())

    def _ensemble_reports(
        self, analysis: dict[str, Any], completed: list[ResourceRecord]
    ) -> list[tuple[str, Ending]]:
        """ENSEMBLING: both reports for every completed candidate (one processing job each,
        ``ensemble-reports``), and with the model insights the candidate definition notebook
        that refits the weighted ensemble.
        What it needs beyond its inputs' folders (the candidates, their models, the S3
        locations the notebook reads) is a JSON object written first, one of its inputs."""
        objective = analysis["objective"]
        candidates = []
        for trial in completed:
            hyperparameters = trial.document.get("HyperParameters") or {}
            values = {
                str(m["MetricName"]): float(m["Value"])
                for m in trial.document.get("FinalMetricDataList") or []
            }
            candidates.append(
                {
                    "name": trial.name,
                    "model": (trial.document.get("ModelArtifacts") or {}).get(
                        "S3ModelArtifacts", ""
                    ),
                    "algorithm": hyperparameters.get("algorithm", ""),
                    "ensemble": hyperparameters.get("algorithm") == ENSEMBLE,
                    "objective": values.get(f"validation:{objective}"),
                }
            )
        first = completed[0].document.get("HyperParameters") or {}
        context = {
            "candidates": candidates,
            "folds": int(first.get("folds", ensembling.FOLDS)),
            "seed": int(first.get("seed", ensembling.SEED)),
            "train": f"{self.layout['preprocessed']}/train/",
            "validation": f"{self.layout['preprocessed']}/validation/",
        }
        context_uri = f"{self.layout['documentation']}/report-inputs/candidates.json"
        if self._processing.record(self.names["explainability"]) is None:
            self._put_json(context_uri, context)
        split = self.layout["split"]
        inputs = {
            "analysis": f"{split}/analysis",
            "models": f"{self.layout['ensembling']}/",
            "context": context_uri,
        }
        documentation = {"documentation": self.layout["documentation"]}
        trained = max(float(t.document.get("TrainingTimeInSeconds") or 0) for t in completed)
        seconds = max(
            5.0,
            min(
                ENSEMBLE_REPORT_SECONDS,
                0.3 * (self._deadline - time.time()),
                max(10.0, 0.5 * trained),
            ),
        )
        return self._report_steps(
            "ensemble-reports",
            {
                "explainability": {
                    **inputs,
                    "raw-validation": f"{split}/validation",
                    "preprocessing": self._preprocessing_model(),
                },
                "insights": {**inputs, "validation": f"{self.layout['preprocessed']}/validation"},
            },
            {
                "explainability": documentation,
                "insights": {**documentation, "notebooks": self.layout["notebooks"]},
            },
            [c["name"] for c in candidates],
            {"explainability": ["--seconds", f"{seconds:.0f}"]},
        )

    def _deploy(self, best: dict[str, Any]) -> dict[str, Any]:
        """The best candidate's model, endpoint configuration and endpoint (ModelDeployConfig)."""
        endpoint = self.plan.deploy.get("EndpointName") or self.names["endpoint"]
        models, configs, endpoints = (
            self._hosting["models"],
            self._hosting["endpoint_configs"],
            self._hosting["endpoints"],
        )
        model_name = best["CandidateName"]
        try:
            if not _exists(models, model_name):
                models.create(
                    {
                        "ModelName": model_name,
                        "Containers": best["InferenceContainers"],
                        "ExecutionRoleArn": self.plan.role_arn,
                    }
                )
            if not _exists(configs, endpoint):
                configs.create(
                    {
                        "EndpointConfigName": endpoint,
                        "ProductionVariants": [
                            {
                                "VariantName": "AllTraffic",
                                "ModelName": model_name,
                                "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large",
                            }
                        ],
                    }
                )
            if not _exists(endpoints, endpoint):
                endpoints.create({"EndpointName": endpoint, "EndpointConfigName": endpoint})
        except ServiceError as exc:
            raise JobFailure(f"ModelDeploymentError: {exc}") from exc
        while True:
            status = endpoints.describe(endpoint)["EndpointStatus"]
            if status == "InService":
                return {"EndpointName": endpoint}
            if status == "Failed" or self.stopping:
                raise JobFailure(f"ModelDeploymentError: the endpoint {endpoint} is {status}.")
            time.sleep(POLL_SECONDS)

    # -- reading ---------------------------------------------------------------------------------

    def _read_json(self, uri: str) -> dict[str, Any]:
        bucket, key = parse_s3_uri(uri)
        try:
            _, chunks = self._objects.get_object(bucket, key)
            return json.loads(b"".join(chunks))
        except Exception as exc:  # noqa: BLE001 - any read failure fails the job, saying where
            raise JobFailure(
                f"InternalServerError: the data analysis at {uri} cannot be read: {exc}"
            ) from exc


def _exists(service: Any, name: str) -> bool:
    try:
        service.describe(name)
    except ServiceError:
        return False
    return True
