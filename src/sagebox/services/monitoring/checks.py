"""What a monitoring job must say to be runnable, checked when it is defined.

Shared by the four job definition families and the inline MonitoringJobDefinition of a
schedule: one of EndpointInput / BatchTransformInput, container paths under
/opt/ml/processing, S3 URIs that parse, offsets that are ISO 8601 durations, a baseline
that exists (a baselining job sagebox knows, constraint and statistics files in the
object store), and an image sagebox can run.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from sagebox.algorithms.registry import split_image
from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import ServiceError, ValidationError
from sagebox.services.monitoring.windows import offset
from sagebox.services.processing.images import default_entrypoint
from sagebox.services.processing.requests import container_path


class ProcessingJobs(Protocol):
    def record(self, name: str) -> Any: ...


def check_uri(member: str, uri: str | None) -> None:
    if uri is None:
        return
    try:
        parse_s3_uri(uri)
    except ValueError as exc:
        raise ValidationError(f"{member} '{uri}' is not valid: {exc}.") from exc


def check_job_input(where: str, job_input: dict[str, Any], ground_truth: bool) -> str:
    """The input's local path; ValidationError naming what is wrong."""
    endpoint, batch = job_input.get("EndpointInput"), job_input.get("BatchTransformInput")
    if (endpoint is None) == (batch is None):
        raise ValidationError(f"{where} must contain exactly one of EndpointInput or BatchTransformInput.")
    kind = "EndpointInput" if endpoint is not None else "BatchTransformInput"
    given = endpoint if endpoint is not None else batch
    mode = given.get("S3InputMode") or "File"
    if mode != "File":
        raise ValidationError(
            f"{where}.{kind}.S3InputMode '{mode}' is not supported by sagebox; monitoring jobs read their data in File mode."
        )
    for member in ("StartTimeOffset", "EndTimeOffset"):
        if given.get(member):
            offset(given[member], f"{where}.{kind}.{member}")
    if batch is not None:
        check_uri(f"{where}.BatchTransformInput.DataCapturedDestinationS3Uri", batch["DataCapturedDestinationS3Uri"])
    if ground_truth:
        uri = (job_input.get("GroundTruthS3Input") or {}).get("S3Uri")
        if not uri:
            raise ValidationError(f"{where}.GroundTruthS3Input.S3Uri is required: the ground truth labels to compare with.")
        check_uri(f"{where}.GroundTruthS3Input.S3Uri", uri)
    return container_path(f"{where}.{kind}.LocalPath", given["LocalPath"])


def check_output(where: str, output_config: dict[str, Any], input_path: str) -> None:
    outputs = output_config.get("MonitoringOutputs") or []
    if len(outputs) != 1:
        raise ValidationError(f"{where}.MonitoringOutputs must hold exactly one output, got {len(outputs)}.")
    target = outputs[0]["S3Output"]
    check_uri(f"{where}.MonitoringOutputs[0].S3Output.S3Uri", target["S3Uri"])
    local = container_path(f"{where}.MonitoringOutputs[0].S3Output.LocalPath", target["LocalPath"])
    if local == input_path or local.startswith(input_path + "/") or input_path.startswith(local + "/"):
        raise ValidationError(
            f"{where}.MonitoringOutputs[0].S3Output.LocalPath '{local}' overlaps the input's LocalPath '{input_path}'; "
            "the input and the output each need a folder of their own."
        )


def check_baseline(where: str, baseline: dict[str, Any] | None, objects: ObjectStore, processing: ProcessingJobs) -> None:
    """The baseline a monitoring job names must exist: its baselining job and its files."""
    if not baseline:
        return
    job = baseline.get("BaseliningJobName")
    if job and processing.record(job) is None:
        raise ValidationError(
            f"{where}.BaseliningJobName '{job}' does not name a processing job: run the baselining job first "
            "(suggest_baseline) or give the baseline's ConstraintsResource and StatisticsResource."
        )
    for member in ("ConstraintsResource", "StatisticsResource"):
        uri = (baseline.get(member) or {}).get("S3Uri")
        if not uri:
            continue
        check_uri(f"{where}.{member}.S3Uri", uri)
        if not object_exists(objects, uri):
            raise ValidationError(
                f"{where}.{member}.S3Uri '{uri}' does not exist: the baseline "
                f"{'constraints' if member == 'ConstraintsResource' else 'statistics'} file must be in S3 before it "
                "can be monitored against."
            )


def object_exists(objects: ObjectStore, uri: str) -> bool:
    bucket, key = parse_s3_uri(uri)
    try:
        objects.head_object(bucket, key)
    except ObjectStoreError:
        return False
    return True


CLARIFY_REPOSITORY = "sagemaker-clarify-processing"


def check_app(where: str, app: dict[str, Any]) -> None:
    image = app.get("ImageUri") or ""
    clarify = split_image(image)[0] == CLARIFY_REPOSITORY if image else False
    if not app.get("ContainerEntrypoint") and default_entrypoint(image) is None and not clarify:
        raise ValidationError(
            f"{where}.ImageUri '{app.get('ImageUri')}' is not an image sagebox implements (the Model Monitor analyzer, "
            "sagemaker-model-monitor-analyzer, or Clarify) and no ContainerEntrypoint says how to run it."
        )
    check_uri(f"{where}.RecordPreprocessorSourceUri", app.get("RecordPreprocessorSourceUri"))
    check_uri(f"{where}.PostAnalyticsProcessorSourceUri", app.get("PostAnalyticsProcessorSourceUri"))
    check_uri(f"{where}.ConfigUri", app.get("ConfigUri"))


def check_capturing_endpoint(where: str, name: str, endpoints: Any) -> None:
    """The endpoint a monitoring job reads must exist and capture its traffic."""
    try:
        described = endpoints.describe(name)
    except ServiceError as exc:
        raise ValidationError(f"The endpoint {name} to monitor does not exist ({where}): {exc.message}") from exc
    capture = described.get("DataCaptureConfig") or {}
    if not capture.get("EnableCapture"):
        raise ValidationError(
            f"Data capture is not enabled for endpoint {name}: a monitoring schedule analyzes the requests the "
            f"endpoint captures, and its configuration {described.get('EndpointConfigName')} has no DataCaptureConfig "
            "with EnableCapture. Update the endpoint to a configuration that captures data."
        )


# What each Clarify monitor's analysis configuration must say (the SDK's BiasAnalysisConfig and
# ExplainabilityAnalysisConfig write these members).
_CLARIFY_MEMBERS = {
    "ModelBias": (("label", "the column of observed labels"),
                  ("label_values_or_threshold", "the positive label value(s) or threshold"),
                  ("facet", "the sensitive columns, a list of {name_or_index, value_or_threshold}")),
    "ModelExplainability": (("methods", 'the explanation method, {"shap": {...}}'),
                            ("predictor", "how to call the model: model_name (a shadow endpoint) or endpoint_name")),
}


def check_clarify_app(where: str, app: dict[str, Any], monitoring_type: str, objects: ObjectStore) -> None:
    """A bias or explainability monitor runs the Clarify image with the analysis configuration at ConfigUri."""
    image = app.get("ImageUri") or ""
    if split_image(image)[0] != CLARIFY_REPOSITORY:
        raise ValidationError(
            f"{where}.ImageUri '{image}' is not the SageMaker Clarify image ({CLARIFY_REPOSITORY}, as "
            "image_uris.retrieve('clarify', region) names it): bias and explainability monitors run Clarify."
        )
    uri = app.get("ConfigUri") or ""
    check_uri(f"{where}.ConfigUri", uri)
    try:
        body = objects.read_bytes(uri)
    except (ObjectStoreError, ValueError) as exc:
        raise ValidationError(
            f"{where}.ConfigUri '{uri}' does not exist: upload the analysis configuration (analysis_config.json) first."
        ) from exc
    try:
        config = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{where}.ConfigUri '{uri}' is not a JSON analysis configuration: {exc}.") from exc
    if not isinstance(config, dict):
        raise ValidationError(f"{where}.ConfigUri '{uri}' must hold a JSON object (an analysis configuration).")
    missing = [f"'{member}' ({meaning})" for member, meaning in _CLARIFY_MEMBERS[monitoring_type] if not config.get(member)]
    if missing:
        raise ValidationError(
            f"The analysis configuration at {where}.ConfigUri '{uri}' lacks {', '.join(missing)}, which a "
            f"{monitoring_type} monitor needs."
        )
    if monitoring_type == "ModelExplainability":
        if not isinstance(config["methods"], dict) or "shap" not in config["methods"]:
            raise ValidationError(
                f"The analysis configuration at {where}.ConfigUri '{uri}' has no methods.shap: feature attribution "
                "drift compares SHAP values."
            )
        predictor = config["predictor"]
        if not isinstance(predictor, dict) or not (predictor.get("model_name") or predictor.get("endpoint_name")):
            raise ValidationError(
                f"The analysis configuration at {where}.ConfigUri '{uri}' has a predictor with neither model_name "
                "nor endpoint_name: Clarify has no model to explain."
            )
