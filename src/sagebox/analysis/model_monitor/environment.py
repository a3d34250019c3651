"""What the analyzer is asked to do: the processing job's Environment, as Amazon's reads it.

Amazon's analyzer takes its parameters from the Environment map of
``/opt/ml/config/processingjobconfig.json``; sagebox's job processes also get them as
environment variables, which are the fallback. Paths are container paths (/opt/ml/...),
found under ``SAGEMAKER_BASE_DIR`` (the job's folder) on this machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OPT_ML = "/opt/ml"
CONFIG_FILE = "/opt/ml/config/processingjobconfig.json"
MESSAGE_FILE = "/opt/ml/output/message"
CLOUDWATCH_DIRECTORY = "/opt/ml/output/metrics/cloudwatch"
CAPTURE_FORMAT = "sagemakerCaptureJson"
DATA_QUALITY = "DATA_QUALITY"
MODEL_QUALITY = "MODEL_QUALITY"


class AnalysisError(Exception):
    """The analysis cannot be done; the message is the job's ExitMessage and FailureReason."""


def local_path(path: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where a container path is on this machine (unchanged when it is not under /opt/ml)."""
    base = (environ if environ is not None else os.environ).get("SAGEMAKER_BASE_DIR")
    if base and (path == OPT_ML or path.startswith(OPT_ML + "/")):
        return Path(base) / path[len(OPT_ML):].lstrip("/")
    return Path(path)


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "").replace("Z", "+00:00"))
    except ValueError as exc:
        raise AnalysisError(f"The environment variable {name} '{value}' is not an ISO 8601 time.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AnalyzerEnvironment:
    dataset_format: dict[str, Any]
    dataset_source: Path
    output_path: Path
    analysis_type: str = DATA_QUALITY
    baseline_constraints: Path | None = None
    baseline_statistics: Path | None = None
    publish_cloudwatch_metrics: bool = False
    record_preprocessor_script: Path | None = None
    post_analytics_processor_script: Path | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    metric_time: datetime | None = None
    endpoint_name: str | None = None
    schedule_name: str | None = None
    monitoring_input_type: str | None = None
    problem_type: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    ground_truth_attribute: str | None = None
    probability_threshold_attribute: float | None = None
    positive_label: str | None = None
    ground_truth_source: Path | None = None
    exclude_features_attribute: str | None = None
    categorical_drift_method: str | None = None
    cloudwatch_directory: Path = Path(CLOUDWATCH_DIRECTORY)
    message_file: Path = Path(MESSAGE_FILE)

    @property
    def is_capture(self) -> bool:
        return CAPTURE_FORMAT in self.dataset_format

    @property
    def capture_index_names(self) -> tuple[str, ...]:
        names = (self.dataset_format.get(CAPTURE_FORMAT) or {}).get("captureIndexNames")
        return tuple(names or ("endpointInput", "endpointOutput"))

    @property
    def is_monitoring(self) -> bool:
        """A scheduled execution (compares with a baseline) rather than a baselining job."""
        return bool(self.schedule_name) or self.baseline_constraints is not None

    @property
    def excluded_features(self) -> set[str]:
        return {f.strip() for f in (self.exclude_features_attribute or "").split(",") if f.strip()}


def job_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The job's Environment map: processingjobconfig.json's, else the process environment."""
    environ = environ if environ is not None else os.environ
    config = local_path(CONFIG_FILE, environ)
    if config.is_file():
        try:
            given = json.loads(config.read_text(encoding="utf-8")).get("Environment") or {}
        except (OSError, json.JSONDecodeError):
            given = {}
        if given:
            return {str(k): str(v) for k, v in given.items()}
    return dict(environ)


def read_environment(environ: Mapping[str, str] | None = None) -> AnalyzerEnvironment:
    """The analysis the job asks for; AnalysisError naming a variable that is missing or wrong."""
    process = environ if environ is not None else os.environ
    env = job_environment(process)

    def path(name: str) -> Path | None:
        return local_path(env[name], process) if env.get(name) else None

    for required in ("dataset_format", "dataset_source", "output_path"):
        if not env.get(required):
            raise AnalysisError(f"The environment variable {required} is required by the Model Monitor analyzer.")
    try:
        dataset_format = json.loads(env["dataset_format"])
    except json.JSONDecodeError as exc:
        raise AnalysisError(f"The environment variable dataset_format is not JSON: {exc}") from exc
    if not isinstance(dataset_format, dict) or not dataset_format:
        raise AnalysisError(
            "dataset_format must name a format: csv, json, parquet or sagemakerCaptureJson, e.g. "
            '{"csv": {"header": true}}.'
        )
    threshold = env.get("probability_threshold_attribute")
    try:
        probability_threshold = float(threshold) if threshold else None
    except ValueError as exc:
        raise AnalysisError(f"probability_threshold_attribute '{threshold}' is not a number.") from exc
    return AnalyzerEnvironment(
        dataset_format=dataset_format,
        dataset_source=local_path(env["dataset_source"], process),
        output_path=local_path(env["output_path"], process),
        analysis_type=(env.get("analysis_type") or DATA_QUALITY).upper(),
        baseline_constraints=path("baseline_constraints"),
        baseline_statistics=path("baseline_statistics"),
        publish_cloudwatch_metrics=env.get("publish_cloudwatch_metrics", "").lower() == "enabled",
        record_preprocessor_script=path("record_preprocessor_script"),
        post_analytics_processor_script=path("post_analytics_processor_script"),
        start_time=_time(env.get("start_time"), "start_time"),
        end_time=_time(env.get("end_time"), "end_time"),
        metric_time=_time(env.get("metric_time"), "metric_time"),
        endpoint_name=env.get("sagemaker_endpoint_name") or None,
        schedule_name=env.get("sagemaker_monitoring_schedule_name") or None,
        monitoring_input_type=env.get("monitoring_input_type") or None,
        problem_type=env.get("problem_type") or None,
        inference_attribute=env.get("inference_attribute") or None,
        probability_attribute=env.get("probability_attribute") or None,
        ground_truth_attribute=env.get("ground_truth_attribute") or None,
        probability_threshold_attribute=probability_threshold,
        positive_label=env.get("positive_label") or None,
        ground_truth_source=path("ground_truth_source"),
        exclude_features_attribute=env.get("exclude_features_attribute") or None,
        categorical_drift_method=env.get("categorical_drift_method") or None,
        cloudwatch_directory=local_path(env.get("CLOUDWATCH_METRICS_DIRECTORY") or CLOUDWATCH_DIRECTORY, process),
        message_file=local_path(MESSAGE_FILE, process),
    )
