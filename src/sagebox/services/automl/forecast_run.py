"""A time-series AutoML job's run: AnalyzingData, then TrainingModels, then its backtests.

AnalyzingData is a processing job on Autopilot's image (``forecast-analyze``: check the
columns and timestamps, make regular filled series, check the horizon); TrainingModels
is a tuning job with the Grid strategy over the candidate models, so each model is one
training job that backtests it and reports Autopilot's metrics; the best by the
objective is the job's BestCandidate. Each candidate's backtest forecasts and metrics
are copied to ``<output>/<job>/backtest-results/<candidate>/``, its
CandidateArtifactLocations.BacktestResults. With ModelDeployConfig the best candidate's
endpoint is made as for tabular jobs. Before that, two processing jobs write every candidate's
explainability and model insights reports (`analysis/automl/forecast_reports.py`), its
CandidateArtifactLocations.Explainability and ModelInsights, in the statuses
GeneratingExplainabilityReport and GeneratingModelInsightsReport.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

from sagebox.algorithms.forecasting.train import BACKTEST_FORECASTS, BACKTEST_METRICS
from sagebox.objects import parse_s3_uri
from sagebox.services.automl import candidates as candidate_views
from sagebox.services.automl import forecast_candidates
from sagebox.services.automl.run import MAX_PARALLEL_CANDIDATES, TRAINING_INSTANCE, AutoMLRun
from sagebox.services.jobs import Ending
from sagebox.store import ResourceRecord

BACKTEST_FILES = (BACKTEST_FORECASTS, BACKTEST_METRICS)


def backtest_location(output_path: str, job: str, candidate: str) -> str:
    return f"{output_path.rstrip('/')}/{job}/backtest-results/{candidate}"


class ForecastRun(AutoMLRun):
    def run(self) -> Ending:
        self._enter("AnalyzingData")
        ended = self._step(self._processing, self.names["analysis"], self._series_request)
        if ended is not None:
            return ended
        analysis = self._read_json(f"{self.layout['split']}/analysis/analysis.json")
        self._on_analysis({**analysis, "artifacts": {}})
        self._enter("TrainingModels")
        ended = self._step(self._tuning, self.names["tuning"], self._models_request)
        tuning = self._tuning.record(self.names["tuning"])
        trials = self._training.trials_of(tuning.arn) if tuning is not None else []
        if ended is not None and ended.status == "Stopped":
            return ended
        completed, members, failure = self._outcome(trials, ended)
        if failure is not None:
            return failure
        for trial in completed:
            self._copy_backtest(trial)
        best = self._best_forecast(analysis, completed)
        if best is None:
            return Ending(
                "Failed", "No candidate reported a value of the objective metric.", members=members
            )
        stopped = self._note_report_problems(self._forecast_reports(completed), members)
        if stopped is not None:
            return stopped
        if self.plan.deploy:
            self._enter("DeployingModel")
            members["ModelDeployResult"] = self._deploy(best)
        if time.time() >= self._deadline:
            return Ending("Completed", secondary="MaxAutoMLJobRuntimeReached", members=members)
        if len(trials) >= self.plan.max_candidates:
            return Ending("Completed", secondary="MaxCandidatesReached", members=members)
        return Ending("Completed", members=members)

    def _series_request(self) -> dict[str, Any]:
        plan, forecast = self.plan, self.plan.forecast or {}
        arguments = [
            "forecast-analyze",
            "--target", plan.target,
            "--item", forecast["item"],
            "--timestamp", forecast["timestamp"],
            "--frequency", forecast["frequency"],
            "--horizon", str(forecast["horizon"]),
            "--aggregation", forecast["aggregation"],
            "--objective", str(plan.objective),
        ]  # fmt: skip
        if forecast["grouping"]:
            arguments += ["--grouping", ",".join(forecast["grouping"])]
        if forecast["filling"]:
            arguments += ["--filling", json.dumps(forecast["filling"], separators=(",", ":"))]
        training = next(c for c in plan.channels if c.channel == "training")
        if training.compression:
            arguments += ["--compression", training.compression]
        outputs = {part: f"{self.layout['split']}/{part}" for part in ("train", "analysis")}
        return self._processing_request(
            self.names["analysis"], arguments, {"data": training.uri}, outputs
        )

    def _models_request(self) -> dict[str, Any]:
        forecast = self.plan.forecast or {}
        models = list(self.plan.algorithms)
        static = {
            "forecast_horizon": str(forecast["horizon"]),
            "forecast_frequency": forecast["frequency"],
            "forecast_quantiles": ",".join(forecast["quantiles"]),
            "item_identifier_attribute": forecast["item"],
            "timestamp_attribute": forecast["timestamp"],
            "target_attribute": self.plan.target,
            "grouping_attributes": ",".join(forecast["grouping"]),
            "filling": json.dumps(forecast["filling"]),
            "aggregation": forecast["aggregation"],
        }
        return {
            "HyperParameterTuningJobName": self.names["tuning"],
            "HyperParameterTuningJobConfig": {
                "Strategy": "Grid",
                "HyperParameterTuningJobObjective": {
                    "Type": "Minimize",
                    "MetricName": f"validation:{self.plan.objective}",
                },
                "ResourceLimits": {
                    "MaxNumberOfTrainingJobs": len(models),
                    "MaxParallelTrainingJobs": min(len(models), MAX_PARALLEL_CANDIDATES),
                    "MaxRuntimeInSeconds": max(120, self._remaining()),
                },
                "ParameterRanges": {
                    "CategoricalParameterRanges": [{"Name": "model", "Values": models}]
                },
                "TrainingJobEarlyStoppingType": "Off",
            },
            "TrainingJobDefinition": {
                "StaticHyperParameters": static,
                "AlgorithmSpecification": {
                    "TrainingImage": forecast_candidates.forecasting_image(self._region),
                    "TrainingInputMode": "File",
                },
                "RoleArn": self.plan.role_arn,
                "InputDataConfig": [
                    {
                        "ChannelName": "train",
                        "ContentType": "text/csv",
                        "DataSource": {
                            "S3DataSource": {
                                "S3DataType": "S3Prefix",
                                "S3Uri": f"{self.layout['split']}/train/",
                                "S3DataDistributionType": "FullyReplicated",
                            }
                        },
                    }
                ],
                "OutputDataConfig": {"S3OutputPath": self.layout["tuning"]},
                "ResourceConfig": dict(TRAINING_INSTANCE),
                "StoppingCondition": {
                    "MaxRuntimeInSeconds": self.plan.max_runtime_per_training_job
                },
            },
        }

    def _best_forecast(
        self, analysis: dict[str, Any], completed: list[ResourceRecord]
    ) -> dict[str, Any] | None:
        context = candidate_views.CandidateContext(
            forecast_candidates.TIME_SERIES,
            forecast_candidates.OBJECTIVES[analysis["objective"]],
            self._region,
            [],
            "",
        )
        return candidate_views.best(
            [forecast_candidates.candidate(t, context) for t in completed], context.objective
        )

    def _forecast_reports(self, completed: list[ResourceRecord]) -> list[tuple[str, Ending]]:
        """Every candidate's explainability report, then its model insights (backtest metrics
        per window and item, forecast against actual): one processing job each,
        ``forecast-reports``."""
        split = self.layout["split"]
        inputs = {
            "analysis": f"{split}/analysis",
            "train": f"{split}/train",
            "backtests": f"{self.plan.output_path.rstrip('/')}/{self.name}/backtest-results/",
        }
        outputs = {"documentation": self.layout["documentation"]}
        return self._report_steps(
            "forecast-reports",
            {"explainability": inputs, "insights": inputs},
            {"explainability": outputs, "insights": outputs},
            [t.name for t in completed],
        )

    def _copy_backtest(self, trial: ResourceRecord) -> None:
        """The candidate's backtest files, from its output.tar.gz to its BacktestResults location."""
        model_url = (trial.document.get("ModelArtifacts") or {}).get("S3ModelArtifacts") or ""
        output = model_url.rpartition("/")[0] + "/output.tar.gz"
        target = backtest_location(self.plan.output_path, self.name, trial.name)
        bucket, key = parse_s3_uri(target)
        if next(iter(self._objects.iter_objects(f"{target}/")), None) is not None:
            return  # copied by a run before a restart
        try:
            source_bucket, source_key = parse_s3_uri(output)
            _, chunks = self._objects.get_object(source_bucket, source_key)
            data = b"".join(chunks)
        except Exception:  # noqa: BLE001 - a candidate without backtest files keeps its metrics
            return
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                name = member.name.rpartition("/")[2]
                extracted = archive.extractfile(member) if member.isfile() else None
                if name in BACKTEST_FILES and extracted is not None:
                    self._objects.put_object(bucket, f"{key}/{name}", extracted.read())
