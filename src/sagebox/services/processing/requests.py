"""CreateProcessingJob beyond the model's constraints: what sagebox can run, and the record it keeps."""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import ValidationError
from sagebox.services.processing.images import default_entrypoint

PROCESSING_ROOT = "/opt/ml/processing"
DEFAULT_MAX_RUNTIME_SECONDS = 86400
MAX_INSTANCES = 8
SUPPORTED_INPUT_MODES = ("File",)
# Members another service may set when it starts a processing job for its own purposes.
LINK_MEMBERS = ("MonitoringScheduleArn", "AutoMLJobArn", "TrainingJobArn")


@dataclass(frozen=True)
class InputSpec:
    """One ProcessingInput sagebox downloads (or leaves to the application when app-managed)."""

    name: str
    local_path: str | None  # normalized, under /opt/ml/processing/
    s3_uri: str
    data_type: str = "S3Prefix"
    compression: str = "None"
    app_managed: bool = False
    distribution: str = "FullyReplicated"


@dataclass(frozen=True)
class OutputSpec:
    """One ProcessingOutput sagebox uploads (or leaves to the application when app-managed)."""

    name: str
    local_path: str | None
    s3_uri: str | None
    upload_mode: str = "EndOfJob"
    app_managed: bool = False


@dataclass(frozen=True)
class ProcessingPlan:
    """What the runner needs to execute a validated job."""

    command: tuple[str, ...]  # ContainerEntrypoint + ContainerArguments, as given
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    max_runtime_seconds: int
    instance_count: int = 1


def container_path(member: str, given: Any) -> str:
    """`given` normalized, if it is a folder under /opt/ml/processing/; else a ValidationError."""
    if not isinstance(given, str) or not given.startswith("/"):
        raise ValidationError(
            f"{member} '{given}' is not valid: it must be an absolute path under "
            f"{PROCESSING_ROOT}/, e.g. {PROCESSING_ROOT}/input/data."
        )
    normalized = posixpath.normpath(given)
    if not normalized.startswith(PROCESSING_ROOT + "/"):
        raise ValidationError(
            f"{member} '{given}' is not valid: SageMaker Processing requires local paths to begin with "
            f"{PROCESSING_ROOT}/ (a folder below it, e.g. {PROCESSING_ROOT}/input/data)."
        )
    return normalized


def _check_uri(member: str, uri: str) -> None:
    try:
        parse_s3_uri(uri)
    except ValueError as exc:
        raise ValidationError(f"{member} '{uri}' is not valid: {exc}.") from exc


def _unique(member: str, names: list[str], what: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError(
            f"{member}: {what} '{repeated[0]}' is used more than once; each {what} must be unique."
        )


def check_inputs(inputs: list[dict[str, Any]]) -> tuple[InputSpec, ...]:
    _unique("ProcessingInputs", [i["InputName"] for i in inputs], "InputName")
    specs = []
    for index, item in enumerate(inputs):
        where = f"ProcessingInputs[{index}] (InputName '{item['InputName']}')"
        source, dataset = item.get("S3Input"), item.get("DatasetDefinition")
        if (source is None) == (dataset is None):
            raise ValidationError(f"{where} must specify exactly one of S3Input or DatasetDefinition.")
        if dataset is not None:
            raise ValidationError(
                f"{where}: DatasetDefinition (Athena and Redshift queries) is not supported by sagebox; "
                "give the data as an S3Input."
            )
        app_managed = bool(item.get("AppManaged"))
        _check_uri(f"{where}.S3Input.S3Uri", source["S3Uri"])
        mode = source.get("S3InputMode") or "File"
        if mode not in SUPPORTED_INPUT_MODES:
            raise ValidationError(
                f"{where}.S3Input.S3InputMode '{mode}' is not supported by sagebox yet; "
                f"supported: {', '.join(SUPPORTED_INPUT_MODES)}."
            )
        local = source.get("LocalPath")
        if local is None and not app_managed:
            raise ValidationError(
                f"{where}.S3Input.LocalPath is required when AppManaged is False (the default): "
                f"give the folder under {PROCESSING_ROOT}/ to download the data to."
            )
        specs.append(
            InputSpec(
                name=item["InputName"],
                local_path=container_path(f"{where}.S3Input.LocalPath", local) if local is not None else None,
                s3_uri=source["S3Uri"],
                data_type=source["S3DataType"],
                compression=source.get("S3CompressionType") or "None",
                app_managed=app_managed,
                distribution=source.get("S3DataDistributionType") or "FullyReplicated",
            )
        )
    return tuple(specs)


def check_outputs(config: dict[str, Any] | None) -> tuple[OutputSpec, ...]:
    outputs = (config or {}).get("Outputs") or []
    _unique("ProcessingOutputConfig.Outputs", [o["OutputName"] for o in outputs], "OutputName")
    specs = []
    for index, item in enumerate(outputs):
        where = f"ProcessingOutputConfig.Outputs[{index}] (OutputName '{item['OutputName']}')"
        target, feature_store = item.get("S3Output"), item.get("FeatureStoreOutput")
        if (target is None) == (feature_store is None):
            raise ValidationError(f"{where} must specify exactly one of S3Output or FeatureStoreOutput.")
        app_managed = bool(item.get("AppManaged"))
        if feature_store is not None:
            if not app_managed:
                raise ValidationError(
                    f"{where}: FeatureStoreOutput is only supported when AppManaged is True "
                    "(the processing script puts the records into the feature group itself)."
                )
            specs.append(OutputSpec(name=item["OutputName"], local_path=None, s3_uri=None, app_managed=True))
            continue
        _check_uri(f"{where}.S3Output.S3Uri", target["S3Uri"])
        local = target.get("LocalPath")
        if local is None and not app_managed:
            raise ValidationError(
                f"{where}.S3Output.LocalPath is required when AppManaged is False (the default): "
                f"give the folder under {PROCESSING_ROOT}/ whose files are uploaded."
            )
        specs.append(
            OutputSpec(
                name=item["OutputName"],
                local_path=container_path(f"{where}.S3Output.LocalPath", local) if local is not None else None,
                s3_uri=target["S3Uri"],
                upload_mode=target["S3UploadMode"],
                app_managed=app_managed,
            )
        )
    return tuple(specs)


def _check_distinct_paths(inputs: tuple[InputSpec, ...], outputs: tuple[OutputSpec, ...]) -> None:
    seen: dict[str, str] = {}
    named = [(f"input '{i.name}'", i.local_path) for i in inputs if not i.app_managed]
    named += [(f"output '{o.name}'", o.local_path) for o in outputs if not o.app_managed]
    for label, path in named:
        if path is None:
            continue
        if path in seen:
            raise ValidationError(
                f"LocalPath '{path}' is used by both {seen[path]} and {label}; "
                "each input and output needs a folder of its own."
            )
        seen[path] = label


def check_output_buckets(objects: ObjectStore, outputs: tuple[OutputSpec, ...]) -> None:
    for output in outputs:
        if output.app_managed or output.s3_uri is None:
            continue
        bucket, _ = parse_s3_uri(output.s3_uri)
        try:
            objects.head_bucket(bucket)
        except ObjectStoreError as exc:
            raise ValidationError(
                f"ProcessingOutputConfig output '{output.name}': S3Output.S3Uri '{output.s3_uri}' names "
                f"bucket '{bucket}', which does not exist ({exc.code})."
            ) from exc


def check_app_specification(spec: dict[str, Any]) -> tuple[str, ...]:
    """The job's command: ContainerEntrypoint + ContainerArguments; an Amazon processing image
    sagebox implements (services/processing/images.py) stands for its own ENTRYPOINT."""
    entrypoint = spec.get("ContainerEntrypoint") or default_entrypoint(spec.get("ImageUri")) or []
    if not entrypoint:
        raise ValidationError(
            "AppSpecification.ContainerEntrypoint is required by sagebox: it runs the job as a local "
            f"process and cannot run the ENTRYPOINT of the image '{spec.get('ImageUri', '')}'. Give the "
            'command, e.g. ["python3", "/opt/ml/processing/input/code/preprocess.py"].'
        )
    if not entrypoint[0]:
        raise ValidationError("AppSpecification.ContainerEntrypoint: the first element (the program) is empty.")
    return (*entrypoint, *(spec.get("ContainerArguments") or []))


def _check_instance_count(request: dict[str, Any]) -> int:
    count = request["ProcessingResources"]["ClusterConfig"].get("InstanceCount") or 1
    if not 1 <= count <= MAX_INSTANCES:
        raise ValidationError(
            f"ProcessingResources.ClusterConfig.InstanceCount {count}: sagebox runs a processing job "
            f"on 1 to {MAX_INSTANCES} instances, each a process on this machine."
        )
    return int(count)


def plan(request: dict[str, Any], objects: ObjectStore | None = None) -> ProcessingPlan:
    """Checks everything the model cannot express; raises ValidationError naming the member.

    With `objects`, the output buckets must exist (checked when a job is created).
    """
    command = check_app_specification(request["AppSpecification"])
    instance_count = _check_instance_count(request)
    inputs = check_inputs(request.get("ProcessingInputs") or [])
    outputs = check_outputs(request.get("ProcessingOutputConfig"))
    _check_distinct_paths(inputs, outputs)
    if objects is not None:
        check_output_buckets(objects, outputs)
    stopping = request.get("StoppingCondition") or {}
    return ProcessingPlan(
        command=command,
        inputs=inputs,
        outputs=outputs,
        max_runtime_seconds=stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS,
        instance_count=instance_count,
    )


# Members of CreateProcessingJob that DescribeProcessingJob echoes back.
_ECHOED = (
    "ProcessingInputs", "ProcessingOutputConfig", "ProcessingJobName", "ProcessingResources",
    "StoppingCondition", "AppSpecification", "Environment", "NetworkConfig", "RoleArn",
    "ExperimentConfig",
)


def link_members(links: Mapping[str, str] | None) -> dict[str, str]:
    """The members linking a job that another resource starts (MonitoringScheduleArn, ...)."""
    for key in links or {}:
        if key not in LINK_MEMBERS:
            raise ValueError(f"{key} is not a member linking a processing job; expected one of {LINK_MEMBERS}")
    return dict(links or {})


def initial_document(request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
    """The Describe payload of a job just created: the request with SageMaker's defaults filled."""
    document: dict[str, Any] = {key: copy.deepcopy(request[key]) for key in _ECHOED if key in request}
    for item in document.get("ProcessingInputs", []):
        item.setdefault("AppManaged", False)
        source = item.get("S3Input")
        if source is not None:
            source.setdefault("S3InputMode", "File")
            source.setdefault("S3DataDistributionType", "FullyReplicated")
            source.setdefault("S3CompressionType", "None")
    for item in (document.get("ProcessingOutputConfig") or {}).get("Outputs", []):
        item.setdefault("AppManaged", False)
    document["ProcessingResources"]["ClusterConfig"].setdefault("InstanceCount", 1)
    document.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": DEFAULT_MAX_RUNTIME_SECONDS})
    document.update(
        {
            "ProcessingJobArn": arn,
            "ProcessingJobStatus": "InProgress",
            "CreationTime": now,
            "LastModifiedTime": now,
        }
    )
    return document
