"""CreateTrainingJob beyond the model's constraints: what sagebox can run, and the record it keeps."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.registry import AlgorithmSpec, resolve, supported_images
from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.runtime.metrics import MetricDefinitionError, compile_definitions
from sagebox.runtime.script_mode import decode_value
from sagebox.runtime.training_workspace import ChannelSpec
from sagebox.services.errors import ValidationError
from sagebox.services.training.entrypoint import EntrypointPlan, resolve_entrypoint
from sagebox.services.training.frameworks import (
    Framework,
    framework_for_image,
    framework_repositories,
)

DEFAULT_MAX_RUNTIME_SECONDS = 86400
MAX_SCRIPT_INSTANCES = 8
SUPPORTED_INPUT_MODES = ("File", "FastFile")
SUPPORTED_DATA_TYPES = ("S3Prefix", "ManifestFile")


@dataclass(frozen=True)
class TrainingPlan:
    """What the runner needs to execute a validated job: a built-in algorithm or a user's script."""

    algorithm: AlgorithmSpec | None
    channels: list[ChannelSpec]
    script: ScriptPlan | None = None
    instance_count: int = 1
    entrypoint: EntrypointPlan | None = None


@dataclass(frozen=True)
class ScriptPlan:
    """A framework image running the user's entry point (script mode)."""

    framework: Framework
    image: str
    program: str
    submit_directory: str | None


def _hyperparameter_text(hyperparameters: dict[str, Any], name: str) -> str | None:
    if name not in hyperparameters:
        return None
    value = decode_value(hyperparameters[name])
    return value if isinstance(value, str) else str(hyperparameters[name])


def resolve_script(spec: dict[str, Any], hyperparameters: dict[str, Any]) -> ScriptPlan | None:
    """The script-mode plan of a framework image with `sagemaker_program`, else None.

    sagemaker-xgboost without `sagemaker_program` is the built-in XGBoost algorithm; any
    other framework image needs an entry point.
    """
    image = spec.get("TrainingImage")
    framework = framework_for_image(image)
    program = _hyperparameter_text(hyperparameters, "sagemaker_program")
    if framework is None or image is None:
        if program is not None:
            raise ValidationError(
                "HyperParameters 'sagemaker_program': script mode (a user entry point) runs only in "
                f"framework images (repositories {framework_repositories()}); "
                f"TrainingImage '{image or spec.get('AlgorithmName')}' is not one."
            )
        return None
    if program is None:
        if framework.repository == "sagemaker-xgboost":
            return None
        raise ValidationError(
            f"TrainingImage '{image}' is a {framework.name} framework image, which runs a training "
            "script: HyperParameters must name it in 'sagemaker_program' (and its source archive in "
            "'sagemaker_submit_directory'), as the SageMaker SDK's estimators do."
        )
    if not program or program.startswith("/") or ".." in program.split("/"):
        raise ValidationError(
            f"HyperParameters 'sagemaker_program' '{program}': expected a file name relative to the "
            "source directory, e.g. 'train.py'."
        )
    submit = _hyperparameter_text(hyperparameters, "sagemaker_submit_directory")
    if submit is not None:
        try:
            parse_s3_uri(submit)
        except ValueError as exc:
            raise ValidationError(f"HyperParameters 'sagemaker_submit_directory': {exc}") from exc
    return ScriptPlan(framework=framework, image=image, program=program, submit_directory=submit)


def resolve_algorithm(spec: dict[str, Any]) -> AlgorithmSpec:
    image, name = spec.get("TrainingImage"), spec.get("AlgorithmName")
    if not image and not name:
        raise ValidationError(
            "AlgorithmSpecification must specify either TrainingImage or AlgorithmName."
        )
    algorithm = resolve(training_image=image, algorithm_name=name)
    if algorithm is None:
        given = f"TrainingImage '{image}'" if image else f"AlgorithmName '{name}'"
        raise ValidationError(
            f"AlgorithmSpecification {given} is not an algorithm sagebox can run. "
            f"Supported: {supported_images()}."
        )
    return algorithm


def _media_type(content_type: str | None) -> str | None:
    return content_type.split(";", 1)[0].strip().lower() if content_type else None


def check_channels(algorithm: AlgorithmSpec | None, channels: list[dict[str, Any]], input_mode: str) -> list[ChannelSpec]:
    names = [c["ChannelName"] for c in channels]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(f"InputDataConfig: channel name '{duplicates[0]}' is used more than once.")
    for required in algorithm.required_channels if algorithm else ():
        if required not in names:
            raise ValidationError(
                f"InputDataConfig: the {algorithm.name} algorithm requires a '{required}' channel; "
                f"channels given: {names or 'none'}."
            )
    specs = []
    for channel in channels:
        name = channel["ChannelName"]
        if algorithm is not None and name not in algorithm.channels:
            raise ValidationError(
                f"InputDataConfig: channel '{name}' is not supported by the {algorithm.name} algorithm; "
                f"supported channels: {', '.join(algorithm.channels)}."
            )
        source = channel["DataSource"].get("S3DataSource")
        if source is None:
            raise ValidationError(
                f"InputDataConfig channel '{name}': sagebox reads channels from S3DataSource only."
            )
        if source["S3DataType"] not in SUPPORTED_DATA_TYPES:
            raise ValidationError(
                f"InputDataConfig channel '{name}': S3DataType '{source['S3DataType']}' is not supported "
                f"yet; supported: {', '.join(SUPPORTED_DATA_TYPES)}."
            )
        try:
            parse_s3_uri(source["S3Uri"])
        except ValueError as exc:
            raise ValidationError(f"InputDataConfig channel '{name}': {exc}") from exc
        mode = channel.get("InputMode") or input_mode
        if mode not in SUPPORTED_INPUT_MODES:
            raise ValidationError(
                f"InputDataConfig channel '{name}': input mode '{mode}' is not supported by sagebox yet; "
                f"supported: {', '.join(SUPPORTED_INPUT_MODES)}."
            )
        content_type = channel.get("ContentType")
        media = _media_type(content_type) or (algorithm.default_content_type if algorithm else None)
        if algorithm is not None and media not in algorithm.content_types:
            raise ValidationError(
                f"InputDataConfig channel '{name}': ContentType '{content_type}' is not supported by the "
                f"{algorithm.name} algorithm; supported: {', '.join(algorithm.content_types)}."
            )
        specs.append(
            ChannelSpec(
                name=name,
                content_type=content_type,
                input_mode=mode,
                distribution=source.get("S3DataDistributionType", "FullyReplicated"),
                record_wrapper=channel.get("RecordWrapperType"),
                compression=channel.get("CompressionType"),
            )
        )
    return specs


def check_output(objects: ObjectStore, output: dict[str, Any]) -> None:
    path = output["S3OutputPath"]
    try:
        bucket, _ = parse_s3_uri(path)
    except ValueError as exc:
        raise ValidationError(f"OutputDataConfig.S3OutputPath: {exc}") from exc
    try:
        objects.head_bucket(bucket)
    except ObjectStoreError as exc:
        raise ValidationError(
            f"OutputDataConfig.S3OutputPath '{path}': bucket '{bucket}' does not exist ({exc.code})."
        ) from exc


def check_instance_count(resources: dict[str, Any], user_code: bool) -> int:
    """ResourceConfig.InstanceCount: 1 for built-in algorithms, 1..MAX_SCRIPT_INSTANCES for user code
    (a script-mode entry point or a ContainerEntrypoint)."""
    count = resources.get("InstanceCount", 1)
    if not user_code and count != 1:
        raise ValidationError(
            f"ResourceConfig.InstanceCount {count}: built-in algorithms run on one instance in sagebox; "
            "use InstanceCount 1, or a framework image with a training script (script mode) for "
            "distributed training."
        )
    if not 1 <= count <= MAX_SCRIPT_INSTANCES:
        raise ValidationError(
            f"ResourceConfig.InstanceCount {count}: sagebox runs a training script on 1 to "
            f"{MAX_SCRIPT_INSTANCES} instances, each a process on this machine."
        )
    return int(count)


CHECKPOINT_ROOT = "/opt/ml"
DEFAULT_CHECKPOINT_PATH = "/opt/ml/checkpoints"


def check_spot(request: dict[str, Any]) -> None:
    """EnableManagedSpotTraining, StoppingCondition.MaxWaitTimeInSeconds and CheckpointConfig,
    as SageMaker checks them: a wait limit only with spot, and then at least the runtime limit."""
    stopping = request.get("StoppingCondition") or {}
    wait = stopping.get("MaxWaitTimeInSeconds")
    runtime = stopping.get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS)
    if request.get("EnableManagedSpotTraining"):
        if wait is None or wait < runtime:
            raise ValidationError(
                "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
                f"MaxRuntimeInSeconds (MaxWaitTimeInSeconds {wait}, MaxRuntimeInSeconds {runtime})."
            )
    elif wait is not None:
        raise ValidationError(
            "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true."
        )
    checkpoint = request.get("CheckpointConfig")
    if checkpoint is None:
        return
    try:
        parse_s3_uri(checkpoint["S3Uri"])
    except ValueError as exc:
        raise ValidationError(f"CheckpointConfig.S3Uri: {exc}") from exc
    checkpoint_folder(checkpoint)


def checkpoint_folder(checkpoint: dict[str, Any]) -> str:
    """CheckpointConfig.LocalPath as a folder relative to the host's /opt/ml tree (sagebox
    roots that tree in the job's own folder, so the path must lie inside /opt/ml)."""
    local = str(checkpoint.get("LocalPath") or DEFAULT_CHECKPOINT_PATH)
    relative = PurePosixPath(local).relative_to(CHECKPOINT_ROOT) if local.startswith(CHECKPOINT_ROOT + "/") else None
    if relative is None or not relative.parts or ".." in relative.parts or relative.parts[0] in ("input", "model", "output", "code"):
        raise ValidationError(
            f"CheckpointConfig.LocalPath '{local}': sagebox lays each host's /opt/ml out in the job's own "
            "folder, so LocalPath must be a folder under /opt/ml other than input, model, output and code "
            f"(default {DEFAULT_CHECKPOINT_PATH})."
        )
    return str(relative)


def required_run_members(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """AlgorithmSpecification and ResourceConfig, which the model leaves optional for serverless
    training jobs (ServerlessJobConfig) and sagebox needs for every job it runs."""
    spec, resources = request.get("AlgorithmSpecification"), request.get("ResourceConfig")
    serverless = " (sagebox does not run serverless training jobs, ServerlessJobConfig)"
    if spec is None:
        raise ValidationError(
            "AlgorithmSpecification is required: it names the TrainingImage or AlgorithmName to run" + serverless + "."
        )
    if resources is None:
        raise ValidationError(
            "ResourceConfig is required: it gives the InstanceType, InstanceCount and VolumeSizeInGB of the job"
            + serverless + "."
        )
    return spec, resources


def plan(request: dict[str, Any], objects: ObjectStore) -> TrainingPlan:
    """Checks everything the model cannot express; raises ValidationError naming the member."""
    spec, resources = required_run_members(request)
    hyperparameters = request.get("HyperParameters") or {}
    entrypoint = resolve_entrypoint(spec)
    script = None if entrypoint else resolve_script(spec, hyperparameters)
    algorithm = None if script or entrypoint else resolve_algorithm(spec)
    if algorithm is not None:
        try:
            algorithm.validate_hyperparameters(hyperparameters)
        except HyperparameterError as exc:
            raise ValidationError(f"HyperParameters: {exc}") from exc
    try:
        compile_definitions(spec.get("MetricDefinitions") or [])
    except MetricDefinitionError as exc:
        raise ValidationError(f"AlgorithmSpecification.{exc}") from exc
    count = check_instance_count(resources, script is not None or entrypoint is not None)
    channels = check_channels(algorithm, request.get("InputDataConfig") or [], spec["TrainingInputMode"])
    check_output(objects, request["OutputDataConfig"])
    check_spot(request)
    return TrainingPlan(
        algorithm=algorithm, channels=channels, script=script, instance_count=count, entrypoint=entrypoint
    )


def plan_from_document(document: dict[str, Any]) -> TrainingPlan:
    """The plan of a job already accepted (its record holds the validated request)."""
    spec = document["AlgorithmSpecification"]
    entrypoint = resolve_entrypoint(spec)
    script = None if entrypoint else resolve_script(spec, document.get("HyperParameters") or {})
    algorithm = None if script or entrypoint else resolve_algorithm(spec)
    channels = check_channels(algorithm, document.get("InputDataConfig", []), spec["TrainingInputMode"])
    count = int(document.get("ResourceConfig", {}).get("InstanceCount") or 1)
    return TrainingPlan(
        algorithm=algorithm, channels=channels, script=script, instance_count=count, entrypoint=entrypoint
    )


# Members of CreateTrainingJob that DescribeTrainingJob echoes back.
_ECHOED = (
    "TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
    "OutputDataConfig", "ResourceConfig", "VpcConfig", "StoppingCondition",
    "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining",
    "CheckpointConfig", "DebugHookConfig", "DebugRuleConfigurations", "TensorBoardOutputConfig",
    "ExperimentConfig", "ProfilerConfig", "ProfilerRuleConfigurations", "Environment",
    "RetryStrategy", "RemoteDebugConfig", "InfraCheckConfig",
)


def initial_document(
    request: dict[str, Any], arn: str, algorithm: AlgorithmSpec | None, now: float
) -> dict[str, Any]:
    """The Describe payload of a job just created: the request with SageMaker's defaults filled."""
    document: dict[str, Any] = {key: copy.deepcopy(request[key]) for key in _ECHOED if key in request}
    spec = document["AlgorithmSpecification"]
    # A built-in algorithm's own metrics are always extracted; the user's definitions
    # come on top and win on a name clash.
    given = spec.get("MetricDefinitions") or []
    names = {d["Name"] for d in given}
    builtin = algorithm.metric_definitions if algorithm else ()
    spec["MetricDefinitions"] = [dict(d) for d in builtin if d["Name"] not in names] + given
    spec.setdefault("EnableSageMakerMetricsTimeSeries", False)
    document["HyperParameters"] = dict(request.get("HyperParameters") or {})
    document.setdefault("StoppingCondition", {})
    document["StoppingCondition"].setdefault("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS)
    document["OutputDataConfig"].setdefault("CompressionType", "GZIP")
    document["OutputDataConfig"].setdefault("KmsKeyId", "")  # SageMaker answers "" when none is set
    for flag in ("EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining"):
        document.setdefault(flag, False)
    for channel in document.get("InputDataConfig", []):
        channel.setdefault("CompressionType", "None")
        channel.setdefault("RecordWrapperType", "None")
        channel["DataSource"]["S3DataSource"].setdefault("S3DataDistributionType", "FullyReplicated")
    document.update(
        {
            "TrainingJobArn": arn,
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "CreationTime": now,
            "LastModifiedTime": now,
            "SecondaryStatusTransitions": [
                {"Status": "Starting", "StartTime": now, "StatusMessage": "Preparing the instances for training"}
            ],
            "ProfilingStatus": "Disabled",
        }
    )
    return document
