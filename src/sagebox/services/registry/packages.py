"""Model packages: CreateModelPackage / Describe / List / Update / Delete / BatchDescribe.

A versioned package (a model version) is registered in a model package group, which
numbers it; an unversioned one has its own name. SageMaker answers a versioned
package's ModelPackageName with its group's name. Packages are records, complete at
once (ModelPackageStatus Completed): sagebox checks what a package holds when it is
registered and runs no validation jobs. `deployable` is what CreateModel asks for when a
container names a model package: the containers to serve, refused for a model version
that is not Approved (for versioned models, "the value of this parameter must be set to
Approved to deploy the model", botocore's documentation of ModelApprovalStatus says).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from sagebox.config import Settings
from sagebox.service_models import service_model
from sagebox.services.callers import current_caller, user_context
from sagebox.services.errors import ValidationError
from sagebox.services.events import CREATED, DELETED, UPDATED
from sagebox.services.families import MODEL_PACKAGE
from sagebox.services.job_states import internal, public, to_datetime, touch
from sagebox.services.listing import DEFAULT_PAGE_SIZE
from sagebox.services.registry import package_requests as requests
from sagebox.services.registry.groups import GROUP_MISSING, ModelPackageGroupService
from sagebox.services.registry.names import is_arn, normalized_arn, version_record_name
from sagebox.services.resources import RecordService
from sagebox.store import (
    AllOf,
    AlreadyExists,
    ColumnSort,
    Condition,
    InvalidNextToken,
    MetadataStore,
    NotFound,
    Operator,
    ResourceRecord,
)

PACKAGE_STATUS = "Completed"
APPROVED = "Approved"


def _batch_summary_fields() -> tuple[str, ...]:
    output = service_model("sagemaker").operation_model("BatchDescribeModelPackage").output_shape
    summary = output.members["ModelPackageSummaries"].value  # type: ignore[union-attr,attr-defined]
    return tuple(summary.members)


class ModelPackageService(RecordService):
    family = MODEL_PACKAGE

    def __init__(
        self, settings: Settings, store: MetadataStore, model_package_groups: ModelPackageGroupService
    ) -> None:
        super().__init__(settings, store)
        self._groups = model_package_groups
        self._batch_fields = _batch_summary_fields()

    # -- create ----------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        requests.check_create_request(request)
        document = requests.new_document(request)
        document["CreatedBy"] = document["LastModifiedBy"] = user_context(self._settings.account_id)
        if request.get("ModelPackageGroupName"):
            return self._create_version(request, document)
        return self._create_unversioned(request, document)

    def _create_version(self, request: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        allocation = self._groups.allocate_version(request["ModelPackageGroupName"], request.get("ClientToken"))
        name = version_record_name(allocation.group_name, allocation.version)
        arn = self.arn_of(name)
        if allocation.existing:
            return {"ModelPackageArn": arn}
        now = allocation.creation_time
        document.update(
            ModelPackageName=allocation.group_name,
            ModelPackageGroupName=allocation.group_name,
            ModelPackageVersion=allocation.version,
            ModelPackageArn=arn,
            CreationTime=now,
            LastModifiedTime=now,
            _sagebox={"name_lower": allocation.group_name.lower()},
        )
        record = ResourceRecord(
            self.family.kind, name, arn, PACKAGE_STATUS, to_datetime(now), to_datetime(now), document,
            parent_arn=allocation.group_arn,
        )
        self._repo.create(record)
        if not self._groups.takes_versions(allocation.group_arn):  # deleted meanwhile
            self._repo.delete(name)
            raise ValidationError(GROUP_MISSING)
        self.publish(CREATED, record)
        return {"ModelPackageArn": arn}

    def _create_unversioned(self, request: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        name = request["ModelPackageName"]
        arn = self.arn_of(name)
        now = round(time.time(), 3)  # milliseconds, as SageMaker's times (and filters) are
        token = request.get("ClientToken")
        document.update(
            ModelPackageName=name, ModelPackageArn=arn, CreationTime=now, LastModifiedTime=now,
            _sagebox={"name_lower": name.lower(), "client_token": token},
        )
        record = ResourceRecord(self.family.kind, name, arn, PACKAGE_STATUS, to_datetime(now), to_datetime(now), document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            existing = self._repo.get_by_arn(arn)
            if token and existing is not None and internal(existing).get("client_token") == token:
                return {"ModelPackageArn": arn}  # a retry of the request that created it
            raise ValidationError(f"Model Package already exists: {arn}") from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self.publish(CREATED, record)
        return {"ModelPackageArn": arn}

    # -- read ------------------------------------------------------------------------

    def find(self, name_or_arn: str) -> ResourceRecord | None:
        return self._repo.get_by_arn(self._arn(name_or_arn))

    def get(self, name: str) -> ResourceRecord:
        record = self.find(name)
        if record is None:
            raise ValidationError(f"ModelPackage {self._arn(name)} does not exist.")
        return record

    def describe(self, name: str) -> dict[str, Any]:
        return public(self.get(name).document)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        conditions: list[Any] = []
        group = request.get("ModelPackageGroupName")
        kind = request.get("ModelPackageType")
        if group:
            record = self._groups.find(group)
            if record is None:
                return {self.family.list_member: [], "NextToken": None}
            conditions.append(Condition(("ModelPackageGroupName",), Operator.EQUALS, record.name))
            kind = kind or "Versioned"  # a group's packages are its versions
        kind = kind or "Unversioned"  # botocore's documented default
        if kind != "Both":
            exists = Operator.EXISTS if kind == "Versioned" else Operator.NOT_EXISTS
            conditions.append(Condition(("ModelPackageVersion",), exists))
        if request.get("ModelApprovalStatus"):
            conditions.append(Condition(("ModelApprovalStatus",), Operator.EQUALS, request["ModelApprovalStatus"]))
        if request.get("NameContains"):
            conditions.append(
                Condition(("_sagebox", "name_lower"), Operator.CONTAINS, request["NameContains"].lower())
            )
        for member, operator in (("CreationTimeAfter", Operator.GREATER_THAN), ("CreationTimeBefore", Operator.LESS_THAN)):
            if request.get(member) is not None:
                conditions.append(Condition(("CreationTime",), operator, request[member].timestamp()))
        sort = ColumnSort(
            request.get("SortBy") or self.family.default_sort_by,
            request.get("SortOrder") or self.family.default_sort_order,
        )
        try:
            records, token = self._repo.query(
                AllOf(conditions), sort, max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(f"Invalid pagination token: {request.get('NextToken')!r}") from exc
        fields = self.family.summary_fields
        summaries = [{k: r.document[k] for k in fields if k in r.document} for r in records]
        return {self.family.list_member: summaries, "NextToken": token}

    def batch_describe(self, arns: list[str]) -> dict[str, Any]:
        summaries: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for arn in arns:
            record = self.find(arn)
            if record is None:
                errors[arn] = {"ErrorCode": "ValidationException", "ErrorResponse": f"ModelPackage {arn} does not exist."}
            elif "ModelPackageVersion" not in record.document:
                errors[arn] = {
                    "ErrorCode": "ValidationException",
                    "ErrorResponse": f"ModelPackage {arn} is not a versioned model package.",
                }
            else:
                summaries[arn] = {k: record.document[k] for k in self._batch_fields if k in record.document}
        return {"ModelPackageSummaries": summaries, "BatchDescribeModelPackageErrorMap": errors}

    # -- update and delete -----------------------------------------------------------

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["ModelPackageArn"])
        _check_update(request)
        caller = current_caller(self._settings.account_id)

        def change(package: ResourceRecord) -> None:
            now = time.time()
            _apply_update(package.document, request)
            if request.get("ModelApprovalStatus") is not None:
                internal(package).setdefault("approvals", []).append(
                    {
                        "ModelApprovalStatus": request["ModelApprovalStatus"],
                        "ApprovalDescription": request.get("ApprovalDescription"),
                        "By": caller.arn,
                        "Time": now,
                    }
                )
            package.document["LastModifiedBy"] = caller.user_context()
            touch(package, now)

        updated = self._modify(record, change)
        self.publish(UPDATED, updated)
        return {"ModelPackageArn": updated.arn}

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        try:
            self._repo.delete(record.name)
        except NotFound as exc:
            raise ValidationError(f"ModelPackage {record.arn} does not exist.") from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)
        return {}

    # -- deployment ------------------------------------------------------------------

    def deployable(self, name_or_arn: str, specification_name: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        """The package's ARN and the containers a model made from it serves.

        `specification_name` picks one of its AdditionalInferenceSpecifications by name
        (ContainerDefinition.InferenceSpecificationName); by default its
        InferenceSpecification.
        """
        document = self.get(name_or_arn).document
        arn = document["ModelPackageArn"]
        status = document.get("ModelApprovalStatus")
        if "ModelPackageVersion" in document and status != APPROVED:
            raise ValidationError(
                f"Model package {arn} cannot be deployed: its ModelApprovalStatus is {status}. "
                f"A model version must be Approved to deploy it (UpdateModelPackage ModelApprovalStatus=Approved)."
            )
        if specification_name:
            extras = document.get("AdditionalInferenceSpecifications") or []
            specification = next((s for s in extras if s["Name"] == specification_name), None)
            if specification is None:
                names = ", ".join(s["Name"] for s in extras) or "none"
                raise ValidationError(
                    f"Model package {arn} has no additional inference specification named "
                    f"'{specification_name}' (it has: {names})."
                )
        else:
            specification = document.get("InferenceSpecification")
            if not specification:
                raise ValidationError(
                    f"Model package {arn} has no InferenceSpecification: it names no container to deploy."
                )
        return arn, copy.deepcopy(specification["Containers"])

    # -- helpers ---------------------------------------------------------------------

    def _arn(self, name_or_arn: str) -> str:
        return normalized_arn(name_or_arn) if is_arn(name_or_arn) else self.arn_of(name_or_arn)

    def _modify(self, record: ResourceRecord, change: Callable[[ResourceRecord], None]) -> ResourceRecord:
        try:
            return self._repo.modify(record.name, change)
        except NotFound as exc:
            raise ValidationError(f"ModelPackage {record.arn} does not exist.") from exc


def _check_update(request: dict[str, Any]) -> None:
    """The checks that need no stored state; the rest happen as the update is applied."""
    if request.get("InferenceSpecification") is not None:
        requests.check_inference_specification(request["InferenceSpecification"], "InferenceSpecification", unversioned=False)
    for index, extra in enumerate(request.get("AdditionalInferenceSpecificationsToAdd") or []):
        requests.check_inference_specification(
            extra, f"AdditionalInferenceSpecificationsToAdd[{index}]", unversioned=False
        )
    if request.get("ModelCard") is not None:
        requests.check_model_card(request["ModelCard"], "ModelCard")


def _apply_update(document: dict[str, Any], request: dict[str, Any]) -> None:
    for member in (
        "ModelApprovalStatus", "ApprovalDescription", "InferenceSpecification", "SourceUri", "ModelCard",
        "ModelLifeCycle", "ModelPackageRegistrationType",
    ):
        if request.get(member) is not None:
            document[member] = copy.deepcopy(request[member])
    added = request.get("CustomerMetadataProperties") or {}
    removed = request.get("CustomerMetadataPropertiesToRemove") or []
    if added or removed:
        merged = requests.merged_metadata(document.get("CustomerMetadataProperties") or {}, added, removed)
        if merged:
            document["CustomerMetadataProperties"] = merged
        else:
            document.pop("CustomerMetadataProperties", None)
    extras = request.get("AdditionalInferenceSpecificationsToAdd")
    if extras:
        combined = [*(document.get("AdditionalInferenceSpecifications") or []), *copy.deepcopy(extras)]
        requests.check_unique_names(combined, "AdditionalInferenceSpecificationsToAdd")
        document["AdditionalInferenceSpecifications"] = combined
