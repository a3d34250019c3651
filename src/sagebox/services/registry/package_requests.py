"""What a model package holds, checked: CreateModelPackage's and UpdateModelPackage's members.

botocore's model has already checked types, enums, lengths and patterns; these checks are
the rules between members and inside strings that the model cannot state: which members
apply to versioned or unversioned packages, containers with an image, S3 URIs that parse,
a model card whose content is JSON. Everything is kept as given, as SageMaker keeps it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from sagebox.objects import parse_s3_uri
from sagebox.services.errors import ValidationError

MAX_ADDITIONAL_SPECIFICATIONS = 15
MAX_CUSTOMER_METADATA = 50

# CreateModelPackage members that DescribeModelPackage answers with, as given.
KEPT_MEMBERS = (
    "ModelPackageDescription", "ModelPackageRegistrationType", "InferenceSpecification",
    "ValidationSpecification", "SourceAlgorithmSpecification", "CertifyForMarketplace",
    "ModelApprovalStatus", "MetadataProperties", "ModelMetrics", "Domain", "Task", "SamplePayloadUrl",
    "CustomerMetadataProperties", "DriftCheckBaselines", "AdditionalInferenceSpecifications",
    "SkipModelValidation", "SourceUri", "SecurityConfig", "ModelCard", "ModelLifeCycle", "ManagedStorageType",
)


def check_create_request(request: dict[str, Any]) -> None:
    """Raises ValidationError naming the first member CreateModelPackage cannot take."""
    group, name = request.get("ModelPackageGroupName"), request.get("ModelPackageName")
    if group and name:
        raise ValidationError(
            "Both ModelPackageName and ModelPackageGroupName are provided in the input. "
            "Cannot determine which one to use."
        )
    if not group and not name:
        raise ValidationError(
            "Missing ARN. Give ModelPackageGroupName to register a version in a model package group, "
            "or ModelPackageName for an unversioned model package."
        )
    if group:
        if request.get("Tags"):
            raise ValidationError(
                "Tags cannot be given for a versioned model package: it uses the tags of its model "
                "package group (ModelPackageGroupName). Tag the group instead."
            )
        if request.get("CertifyForMarketplace"):
            raise ValidationError("CertifyForMarketplace does not apply to versioned model packages.")
    specification = request.get("InferenceSpecification")
    if specification is not None:
        check_inference_specification(specification, "InferenceSpecification", unversioned=not group)
    for index, extra in enumerate(request.get("AdditionalInferenceSpecifications") or []):
        check_inference_specification(extra, f"AdditionalInferenceSpecifications[{index}]", unversioned=False)
    check_unique_names(request.get("AdditionalInferenceSpecifications") or [], "AdditionalInferenceSpecifications")
    check_report_uris(request.get("ModelMetrics"), "ModelMetrics")
    check_report_uris(request.get("DriftCheckBaselines"), "DriftCheckBaselines")
    check_sample_payload(request.get("SamplePayloadUrl"))
    if request.get("ModelCard") is not None:
        check_model_card(request["ModelCard"], "ModelCard")
    for index, algorithm in enumerate((request.get("SourceAlgorithmSpecification") or {}).get("SourceAlgorithms") or []):
        check_model_data_url(algorithm.get("ModelDataUrl"), f"SourceAlgorithmSpecification.SourceAlgorithms[{index}]")


def new_document(request: dict[str, Any]) -> dict[str, Any]:
    """The Describe members a new package takes from its request (identity members aside)."""
    document = {key: copy.deepcopy(request[key]) for key in KEPT_MEMBERS if request.get(key) is not None}
    if request.get("ModelPackageGroupName"):
        document.setdefault("ModelApprovalStatus", "PendingManualApproval")
    document.setdefault("SkipModelValidation", "None")
    profiles = (request.get("ValidationSpecification") or {}).get("ValidationProfiles") or []
    document["ModelPackageStatus"] = "Completed"
    document["ModelPackageStatusDetails"] = {
        # Validation profiles are kept but not run: sagebox runs no validation transform jobs.
        "ValidationStatuses": [{"Name": p["ProfileName"], "Status": "NotStarted"} for p in profiles],
        "ImageScanStatuses": [],
    }
    return document


def check_inference_specification(specification: dict[str, Any], where: str, *, unversioned: bool) -> None:
    containers = specification.get("Containers") or []
    if not containers:
        raise ValidationError(f"{where}.Containers must name at least one container.")
    for index, container in enumerate(containers):
        place = f"{where}.Containers[{index}]"
        if not container.get("Image"):
            raise ValidationError(f"{place}.Image is required: the inference image that serves the model.")
        check_model_data_url(container.get("ModelDataUrl"), place)
    if unversioned:
        for member in ("SupportedRealtimeInferenceInstanceTypes", "SupportedTransformInstanceTypes"):
            if not specification.get(member):
                raise ValidationError(
                    f"{where}.{member} is required for an unversioned model package "
                    "(one given ModelPackageName rather than ModelPackageGroupName)."
                )


def check_model_data_url(url: str | None, where: str) -> None:
    if url and url.startswith("s3://"):
        try:
            parse_s3_uri(url)
        except ValueError as exc:
            raise ValidationError(f"{where}.ModelDataUrl: {exc}") from exc


def check_unique_names(specifications: list[dict[str, Any]], where: str) -> None:
    seen: set[str] = set()
    for specification in specifications:
        name = specification["Name"]
        if name in seen:
            raise ValidationError(f"{where}: the name '{name}' is given to more than one inference specification.")
        seen.add(name)
    if len(specifications) > MAX_ADDITIONAL_SPECIFICATIONS:
        raise ValidationError(
            f"{where}: a model package has at most {MAX_ADDITIONAL_SPECIFICATIONS} additional inference "
            f"specifications; this would make {len(specifications)}."
        )


def check_report_uris(reports: dict[str, Any] | None, where: str) -> None:
    """Every report (MetricsSource, FileSource) names an S3 object: s3://bucket/key."""
    for path, uri in _s3_uris(reports, where):
        if uri.startswith("s3://"):
            try:
                bucket, key = parse_s3_uri(uri)
            except ValueError as exc:
                raise ValidationError(f"{path}: {exc}") from exc
            if not key or key.endswith("/"):
                raise ValidationError(f"{path}: '{uri}' names no object; a report is one S3 object (s3://bucket/key).")


def _s3_uris(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "S3Uri" and isinstance(item, str):
                yield f"{path}.S3Uri", item
            else:
                yield from _s3_uris(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _s3_uris(item, f"{path}[{index}]")


def check_sample_payload(url: str | None) -> None:
    if url and not url.endswith(".tar.gz"):
        raise ValidationError(
            f"SamplePayloadUrl '{url}' must point to a single gzip compressed tar archive (.tar.gz suffix)."
        )


def check_model_card(card: dict[str, Any], where: str) -> None:
    content = card.get("ModelCardContent")
    if content is None:
        return
    try:
        parsed = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{where}.ModelCardContent is not valid JSON: {exc}.") from exc
    if not isinstance(parsed, dict):
        raise ValidationError(f"{where}.ModelCardContent must be a JSON object.")


def merged_metadata(current: dict[str, str], added: dict[str, str], removed: list[str]) -> dict[str, str]:
    """CustomerMetadataProperties after UpdateModelPackage's additions and removals."""
    both = sorted(set(added) & set(removed))
    if both:
        raise ValidationError(
            f"CustomerMetadataProperties and CustomerMetadataPropertiesToRemove both name {', '.join(both)}."
        )
    merged = {key: value for key, value in {**current, **added}.items() if key not in removed}
    if len(merged) > MAX_CUSTOMER_METADATA:
        raise ValidationError(
            f"CustomerMetadataProperties: a model package has at most {MAX_CUSTOMER_METADATA} "
            f"properties; this would make {len(merged)}."
        )
    return merged
