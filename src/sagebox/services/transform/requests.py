"""CreateTransformJob beyond the model's constraints: what sagebox can run, and the record it keeps."""

from __future__ import annotations

import copy
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import ResourceLimitExceeded, ValidationError
from sagebox.services.hosting.models import ModelService, containers_of, serving_handler
from sagebox.services.transform.data_processing import CSV, DataProcessing
from sagebox.services.transform.jsonpath import PathSyntaxError

MAX_PAYLOAD_IN_MB = 100
MAX_INSTANCES = 16
SUPPORTED_SPLIT_TYPES = ("None", "Line", "RecordIO")
SUPPORTED_DATA_TYPES = ("S3Prefix", "ManifestFile")

# Members of CreateTransformJob that DescribeTransformJob echoes back.
_ECHOED = (
    "TransformJobName", "ModelName", "MaxConcurrentTransforms", "ModelClientConfig", "MaxPayloadInMB",
    "BatchStrategy", "Environment", "TransformInput", "TransformOutput", "DataCaptureConfig",
    "TransformResources", "DataProcessing", "ExperimentConfig",
)


def check_request(request: dict[str, Any], objects: ObjectStore, models: ModelService) -> None:
    """Raises ValidationError (or ResourceLimitExceeded) naming what cannot run."""
    model = models.get(request["ModelName"])
    for index, container in enumerate(containers_of(model.document)):
        try:
            serving_handler(container)
        except ValidationError as exc:
            raise ValidationError(f"Model {request['ModelName']} container {index + 1}: {exc.message}") from exc
    _check_limits(request)
    transform_input = request["TransformInput"]
    split = transform_input.get("SplitType") or "None"
    if split not in SUPPORTED_SPLIT_TYPES:
        raise ValidationError(
            f"TransformInput.SplitType '{split}' is not supported by sagebox; "
            f"supported: {', '.join(SUPPORTED_SPLIT_TYPES)}."
        )
    _check_processing(request, split)
    source = transform_input["DataSource"]["S3DataSource"]
    if source["S3DataType"] not in SUPPORTED_DATA_TYPES:
        raise ValidationError(
            f"TransformInput.DataSource.S3DataSource.S3DataType '{source['S3DataType']}' is not supported "
            f"by sagebox; supported: {', '.join(SUPPORTED_DATA_TYPES)}."
        )
    _check_input_exists(objects, source)
    _check_output(objects, request["TransformOutput"]["S3OutputPath"])


def _check_limits(request: dict[str, Any]) -> None:
    payload = request.get("MaxPayloadInMB")
    if payload is not None and payload > MAX_PAYLOAD_IN_MB:
        raise ValidationError(
            f"MaxPayloadInMB {payload} is larger than the maximum of {MAX_PAYLOAD_IN_MB} MB."
        )
    concurrent = request.get("MaxConcurrentTransforms")
    if payload and concurrent and payload * concurrent > MAX_PAYLOAD_IN_MB:
        raise ValidationError(
            f"MaxConcurrentTransforms * MaxPayloadInMB ({concurrent} * {payload}) must not exceed "
            f"{MAX_PAYLOAD_IN_MB} MB."
        )
    count = request["TransformResources"]["InstanceCount"]
    if count > MAX_INSTANCES:
        raise ResourceLimitExceeded(
            f"TransformResources.InstanceCount {count}: sagebox runs at most {MAX_INSTANCES} "
            "transform instances per job on one machine."
        )


def _check_processing(request: dict[str, Any], split: str) -> DataProcessing:
    content_type = request["TransformInput"].get("ContentType")
    try:
        processing = DataProcessing.from_config(request.get("DataProcessing"), content_type)
    except (PathSyntaxError, ValueError) as exc:
        raise ValidationError(f"DataProcessing: {exc}") from exc
    if processing.active and split == "RecordIO":
        raise ValidationError(
            "DataProcessing filters and JoinSource work on CSV and JSON records, not on RecordIO; "
            "use SplitType Line or None."
        )
    if processing.active and split == "None" and processing.input_format == CSV:
        raise ValidationError(
            "DataProcessing on CSV input needs one record per line: set TransformInput.SplitType to Line."
        )
    return processing


def _check_input_exists(objects: ObjectStore, source: dict[str, Any]) -> None:
    uri = source["S3Uri"]
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise ValidationError(f"TransformInput.DataSource.S3DataSource.S3Uri: {exc}") from exc
    try:
        if source["S3DataType"] == "ManifestFile":
            objects.head_object(bucket, key)
            return
        if next(iter(objects.iter_objects(uri)), None) is not None:
            return
    except ObjectStoreError:
        pass
    what = "manifest file" if source["S3DataType"] == "ManifestFile" else "S3 objects"
    raise ValidationError(
        f'No {what} found under S3 URL "{uri}" given in input data source. Please ensure that the '
        "bucket exists and that objects exist under that S3 prefix."
    )


def _check_output(objects: ObjectStore, path: str) -> None:
    try:
        bucket, _ = parse_s3_uri(path)
    except ValueError as exc:
        raise ValidationError(f"TransformOutput.S3OutputPath: {exc}") from exc
    try:
        objects.head_bucket(bucket)
    except ObjectStoreError as exc:
        raise ValidationError(
            f"TransformOutput.S3OutputPath '{path}': bucket '{bucket}' does not exist ({exc.code})."
        ) from exc


def initial_document(request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
    """The Describe payload of a job just created: the request with SageMaker's defaults filled."""
    document: dict[str, Any] = {key: copy.deepcopy(request[key]) for key in _ECHOED if key in request}
    document["TransformInput"].setdefault("CompressionType", "None")
    document["TransformInput"].setdefault("SplitType", "None")
    document["TransformOutput"].setdefault("AssembleWith", "None")
    processing = document.setdefault("DataProcessing", {})
    processing.setdefault("InputFilter", "$")
    processing.setdefault("OutputFilter", "$")
    processing.setdefault("JoinSource", "None")
    document.setdefault("Environment", {})
    document.update(
        {
            "TransformJobArn": arn,
            "TransformJobStatus": "InProgress",
            "CreationTime": now,
            "LastModifiedTime": now,
        }
    )
    return document
