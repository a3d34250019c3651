"""The processing job of one monitoring execution, as SageMaker starts it.

For a run scheduled at T over the window [start, end), the job gets as inputs the hours of
captured traffic in the window (``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh``
below the EndpointInput's LocalPath, only the hours that hold data), the baseline's
constraints and statistics (``/opt/ml/processing/baseline/constraints`` and ``.../stats``),
the preprocessing and postprocessing scripts (``/opt/ml/processing/code/...``), the ground
truth hours (model quality and bias, ``/opt/ml/processing/groundtruth``) and the Clarify
analysis configuration (bias and explainability, ``/opt/ml/processing/input/config``). Its
Environment is the analyzer's contract (``dataset_format``, ``dataset_source``,
``output_path``, ``start_time``, ``end_time``, ``baseline_constraints``, ...) over the
definition's own. Its results go to ``<S3Uri>/<endpoint>/<schedule>/yyyy/mm/dd/hh``.

An execution that cannot start says why (`NotRunnable`): no data in the window ("Job
inputs had no data", SageMaker's words), a baseline that is missing, an endpoint gone or
no longer capturing.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import ServiceError
from sagebox.services.monitoring.checks import object_exists
from sagebox.services.monitoring.jobs import MonitoringJob
from sagebox.services.monitoring.windows import Window

BASELINE_CONSTRAINTS = "/opt/ml/processing/baseline/constraints"
BASELINE_STATISTICS = "/opt/ml/processing/baseline/stats"
PREPROCESSING = "/opt/ml/processing/code/preprocessing"
POSTPROCESSING = "/opt/ml/processing/code/postprocessing"
GROUND_TRUTH = "/opt/ml/processing/groundtruth"
CLARIFY_CONFIG = "/opt/ml/processing/input/config"
CAPTURE_FORMAT = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
ANALYSIS_TYPES = {"ModelQuality": "MODEL_QUALITY", "ModelBias": "MODEL_BIAS", "ModelExplainability": "MODEL_EXPLAINABILITY"}
METRICS_NAMES = {"DataQuality": "data-metrics", "ModelQuality": "model-metrics", "ModelBias": "bias-metrics",
                 "ModelExplainability": "explainability-metrics"}
_BATCH_FORMATS = {"csv": ("header", "Header"), "json": ("lines", "Line"), "parquet": (None, None)}


class NotRunnable(Exception):
    """The execution cannot start; `reason` is its FailureReason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExecutionPlan:
    request: dict[str, Any]
    """The CreateProcessingJob request."""
    publish_metrics: bool
    namespace: str
    """The CloudWatch namespace of the metrics the job leaves."""


def processing_job_name(schedule_arn: str, created: float, scheduled: datetime) -> str:
    digest = hashlib.sha256(f"{schedule_arn} {created} {scheduled.timestamp()}".encode()).hexdigest()[:24]
    return f"model-monitoring-{scheduled:%Y%m%d%H%M}-{digest}"


def _stamp(moment: datetime) -> str:
    """ISO 8601 in UTC, to the millisecond when the moment has one (captured records are)."""
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(window: Window, until: datetime | None = None) -> list[datetime]:
    hour = window.start.replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < (until or window.end):
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def _has_objects(objects: ObjectStore, uri: str) -> bool:
    bucket, prefix = parse_s3_uri(uri)
    try:
        return bool(objects.list_objects(bucket, prefix=prefix, max_keys=1).objects)
    except ObjectStoreError:
        return False


def _s3_input(name: str, uri: str, local_path: str, distribution: str = "FullyReplicated") -> dict[str, Any]:
    return {"InputName": name, "AppManaged": False, "S3Input": {
        "S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": distribution, "S3CompressionType": "None"}}


class ExecutionPlanner:
    """Builds the processing job of an execution (`plan`), or says why there is none."""

    def __init__(self, objects: ObjectStore, processing: Any, endpoints: Any) -> None:
        self._objects = objects
        self._processing = processing
        self._endpoints = endpoints

    def plan(self, job: MonitoringJob, schedule: dict[str, Any], scheduled: datetime, window: Window, now: datetime) -> ExecutionPlan:
        name = processing_job_name(schedule["MonitoringScheduleArn"], schedule["CreationTime"], scheduled)
        schedule_name = schedule["MonitoringScheduleName"]
        local = job.data_input["LocalPath"].rstrip("/")
        environment: dict[str, str] = {"publish_cloudwatch_metrics": "Enabled", **job.environment}
        inputs, data_format = self._data_inputs(job, window, local, environment)
        if not inputs:
            raise NotRunnable("Job inputs had no data")
        environment.update({
            "dataset_format": json.dumps(data_format, separators=(",", ":")), "dataset_source": local,
            "output_path": job.s3_output["LocalPath"], "start_time": _stamp(window.start), "end_time": _stamp(window.end),
            "metric_time": _stamp(scheduled), "sagemaker_monitoring_schedule_name": schedule_name,
            "monitoring_input_type": "ENDPOINT_INPUT" if job.endpoint_input else "BATCH_TRANSFORM_INPUT",
        })
        if job.endpoint_name:
            environment["sagemaker_endpoint_name"] = job.endpoint_name
        inputs += self._baseline_inputs(job, environment)
        inputs += self._script_inputs(job, environment)
        if job.monitoring_type in ANALYSIS_TYPES:
            environment["analysis_type"] = ANALYSIS_TYPES[job.monitoring_type]
            inputs += self._quality_inputs(job, window, now, environment)
        parts = [job.s3_output["S3Uri"].rstrip("/"), *([job.endpoint_name] if job.endpoint_name else [])]
        folder = "/".join([*parts, schedule_name, f"{scheduled:%Y/%m/%d/%H}"])
        request: dict[str, Any] = {
            "ProcessingJobName": name,
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "AppManaged": False, "S3Output": {
                "S3Uri": folder, "LocalPath": job.s3_output["LocalPath"],
                "S3UploadMode": job.s3_output.get("S3UploadMode") or "Continuous"}}]},
            "ProcessingResources": {"ClusterConfig": dict(job.cluster)},
            "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime_seconds},
            "AppSpecification": {k: job.app[k] for k in ("ImageUri", "ContainerEntrypoint", "ContainerArguments") if job.app.get(k)},
            "Environment": environment,
            "RoleArn": job.role_arn,
        }
        if job.output.get("KmsKeyId"):
            request["ProcessingOutputConfig"]["KmsKeyId"] = job.output["KmsKeyId"]
        if job.network:
            request["NetworkConfig"] = dict(job.network)
        scope = "Endpoints" if job.endpoint_input else "ModelMonitoring"
        return ExecutionPlan(request, environment.get("publish_cloudwatch_metrics", "").lower() == "enabled",
                             f"aws/sagemaker/{scope}/{METRICS_NAMES[job.monitoring_type]}")

    # -- inputs ----------------------------------------------------------------------------

    def _data_inputs(self, job: MonitoringJob, window: Window, local: str, environment: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        distribution = job.data_input.get("S3DataDistributionType") or "FullyReplicated"
        if job.endpoint_input is not None:
            endpoint = job.endpoint_name or ""
            try:
                described = self._endpoints.describe(endpoint)
            except ServiceError as exc:
                raise NotRunnable(f"ClientError: The monitored endpoint {endpoint} cannot be read: {exc.message}") from exc
            capture = described.get("DataCaptureConfig") or {}
            if not capture.get("EnableCapture"):
                raise NotRunnable(
                    f"ClientError: Data capture is not enabled for endpoint {endpoint}: its configuration "
                    f"{described.get('EndpointConfigName')} has no DataCaptureConfig with EnableCapture."
                )
            destination = capture["DestinationS3Uri"].rstrip("/")
            environment["sagemaker_endpoint_datacapture_prefix"] = f"{destination}/{endpoint}"
            variants = [v["VariantName"] for v in [*(described.get("ProductionVariants") or []), *(described.get("ShadowProductionVariants") or [])]]
            inputs = []
            for hour in _hours(window):
                for variant in variants:
                    folder = f"{endpoint}/{variant}/{hour:%Y/%m/%d/%H}"
                    if _has_objects(self._objects, f"{destination}/{folder}/"):
                        inputs.append(_s3_input(f"endpoint_input_{len(inputs) + 1}", f"{destination}/{folder}/", f"{local}/{folder}", distribution))
            return inputs, CAPTURE_FORMAT
        batch = job.batch_input or {}
        root = batch["DataCapturedDestinationS3Uri"].rstrip("/")
        inputs = [
            _s3_input(f"batch_input_{index}", f"{root}/{hour:%Y/%m/%d/%H}/", f"{local}/{hour:%Y/%m/%d/%H}", distribution)
            for index, hour in enumerate((h for h in _hours(window) if _has_objects(self._objects, f"{root}/{h:%Y/%m/%d/%H}/")), start=1)
        ]
        if not inputs and _has_objects(self._objects, f"{root}/"):
            inputs = [_s3_input("batch_input_1", f"{root}/", local, distribution)]
        return inputs, _batch_format(batch.get("DatasetFormat") or {})

    def _baseline_inputs(self, job: MonitoringJob, environment: dict[str, str]) -> list[dict[str, Any]]:
        clarify = job.monitoring_type in ("ModelBias", "ModelExplainability")
        files = {"constraints": (job.baseline.get("ConstraintsResource") or {}).get("S3Uri"),
                 "statistics": (job.baseline.get("StatisticsResource") or {}).get("S3Uri")}
        wanted = ("constraints", "statistics") if job.monitoring_type == "DataQuality" else ("constraints",)
        job_name = job.baseline.get("BaseliningJobName")
        if job_name and any(files[w] is None for w in wanted):
            record = self._processing.record(job_name)
            if record is None:
                raise NotRunnable(f"ClientError: The baselining job {job_name} named by the baseline config does not exist.")
            if record.status != "Completed":
                raise NotRunnable(
                    f"ClientError: The baselining job {job_name} is {record.status}; its baseline is used once it has Completed."
                )
            output = record.document["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].rstrip("/")
            names = {"constraints": "analysis.json" if clarify else "constraints.json", "statistics": "statistics.json"}
            for what in wanted:
                files[what] = files[what] or f"{output}/{names[what]}"
            problem = (record.document.get("Environment") or {}).get("problem_type")
            if problem and not job.app.get("ProblemType"):
                environment.setdefault("problem_type", problem)
        inputs = []
        for what, folder, variable in (("constraints", BASELINE_CONSTRAINTS, "baseline_constraints"),
                                       ("statistics", BASELINE_STATISTICS, "baseline_statistics")):
            uri = files[what]
            if uri is None:
                continue
            if not object_exists(self._objects, uri):
                raise NotRunnable(
                    f"ClientError: The baseline {what} file {uri} does not exist; run the baselining job "
                    "(suggest_baseline) or point the job definition's baseline config at an existing file."
                )
            inputs.append(_s3_input(f"baseline_{what}", uri, folder))
            environment[variable] = f"{folder}/{posixpath.basename(parse_s3_uri(uri)[1])}"
        return inputs

    def _script_inputs(self, job: MonitoringJob, environment: dict[str, str]) -> list[dict[str, Any]]:
        inputs = []
        for member, folder, variable, name in (
            ("RecordPreprocessorSourceUri", PREPROCESSING, "record_preprocessor_script", "pre_processor_script"),
            ("PostAnalyticsProcessorSourceUri", POSTPROCESSING, "post_analytics_processor_script", "post_processor_script"),
        ):
            uri = job.app.get(member)
            if not uri:
                continue
            if not object_exists(self._objects, uri):
                raise NotRunnable(f"ClientError: The script {uri} ({member}) does not exist.")
            inputs.append(_s3_input(name, uri, folder))
            environment[variable] = f"{folder}/{posixpath.basename(parse_s3_uri(uri)[1])}"
        return inputs

    def _quality_inputs(self, job: MonitoringJob, window: Window, now: datetime, environment: dict[str, str]) -> list[dict[str, Any]]:
        given = job.data_input
        for member, variable in (("InferenceAttribute", "inference_attribute"), ("ProbabilityAttribute", "probability_attribute"),
                                 ("ProbabilityThresholdAttribute", "probability_threshold_attribute"),
                                 ("FeaturesAttribute", "features_attribute"), ("ExcludeFeaturesAttribute", "exclude_features_attribute")):
            if given.get(member) is not None:
                environment[variable] = str(given[member])
        if job.app.get("ProblemType"):
            environment["problem_type"] = job.app["ProblemType"]
        inputs = []
        if job.app.get("ConfigUri"):
            if not object_exists(self._objects, job.app["ConfigUri"]):
                raise NotRunnable(f"ClientError: The analysis configuration {job.app['ConfigUri']} (ConfigUri) does not exist.")
            inputs.append(_s3_input("analysis_config", job.app["ConfigUri"], CLARIFY_CONFIG))
            environment["analysis_config"] = f"{CLARIFY_CONFIG}/{posixpath.basename(parse_s3_uri(job.app['ConfigUri'])[1])}"
        truth = (job.job_input.get("GroundTruthS3Input") or {}).get("S3Uri")
        if job.monitoring_type in ("ModelQuality", "ModelBias") and truth:
            root = truth.rstrip("/")
            hours = [h for h in _hours(window, until=now + timedelta(hours=1)) if _has_objects(self._objects, f"{root}/{h:%Y/%m/%d/%H}/")]
            found = [_s3_input(f"ground_truth_input_{i}", f"{root}/{h:%Y/%m/%d/%H}/", f"{GROUND_TRUTH}/{h:%Y/%m/%d/%H}")
                     for i, h in enumerate(hours, start=1)]
            if not found and _has_objects(self._objects, f"{root}/"):
                found = [_s3_input("ground_truth_input_1", f"{root}/", GROUND_TRUTH)]
            if not found:
                raise NotRunnable(
                    f"ClientError: No ground truth labels were found under {truth} (GroundTruthS3Input) for the window "
                    f"{_stamp(window.start)} to {_stamp(window.end)}; upload them as yyyy/mm/dd/hh/*.jsonl below it."
                )
            inputs += found
            environment["ground_truth_source"] = GROUND_TRUTH
        return inputs


def _batch_format(given: dict[str, Any]) -> dict[str, Any]:
    for key, options in given.items():
        name = key.lower()
        if name in _BATCH_FORMATS:
            ours, theirs = _BATCH_FORMATS[name]
            if ours is None or theirs is None:
                return {name: {}}
            return {name: {ours: bool((options or {}).get(theirs, name == "json"))}}
    return {"csv": {"header": False}}
