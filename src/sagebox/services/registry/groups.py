"""Model package groups: the Model Registry's models, each holding numbered versions.

CreateModelPackageGroup / DescribeModelPackageGroup / ListModelPackageGroups /
DeleteModelPackageGroup and the group's resource policy (Put/Get/Delete
ModelPackageGroupPolicy). A group numbers its versions: `allocate_version` hands out
1, 2, 3, ... in one locked transaction on the group's record, so concurrent registrations
never share or skip a number, a deleted version's number is never reused, and creation
times follow version order. The resource policy is kept and returned as given; sagebox
does not evaluate IAM policies, so it grants and denies nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sagebox.config import Settings
from sagebox.services.callers import user_context
from sagebox.services.errors import ConflictError, ValidationError
from sagebox.services.families import MODEL_PACKAGE, MODEL_PACKAGE_GROUP
from sagebox.services.job_states import internal, public
from sagebox.services.registry.names import is_arn, normalized_arn
from sagebox.services.resources import RecordService
from sagebox.store import MetadataStore, NotFound, ResourceRecord

GROUP_STATUS = "Completed"  # SageMaker creates a group at once
DELETING = "Deleting"
KEPT_CLIENT_TOKENS = 100  # idempotency tokens remembered per group, newest last
GROUP_MISSING = "Model Package Group does not exist."  # CreateModelPackage's wording


@dataclass(frozen=True)
class VersionAllocation:
    """The version a registration gets in its group."""

    group_name: str
    group_arn: str
    version: int
    creation_time: float
    existing: bool
    """True when the ClientToken already registered this version (an idempotent retry)."""


class ModelPackageGroupService(RecordService):
    family = MODEL_PACKAGE_GROUP

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)
        self._packages = store.resources(MODEL_PACKAGE.kind)

    # -- standard verbs --------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["ModelPackageGroupName"]
        document: dict[str, Any] = {
            key: request[key] for key in ("ModelPackageGroupDescription", "ManagedConfiguration") if key in request
        }
        document.update(
            CreatedBy=user_context(self._settings.account_id),
            ModelPackageGroupStatus=GROUP_STATUS,
            _sagebox={"latest_version": 0, "latest_creation_time": 0.0, "client_tokens": []},
        )
        try:
            record = self._insert(name, document, GROUP_STATUS, tags=request.get("Tags"))
        except ValidationError as exc:
            raise ValidationError(f"Model Package Group already exists: {self.arn_of(name)}") from exc
        return {"ModelPackageGroupArn": record.arn}

    def find(self, name_or_arn: str) -> ResourceRecord | None:
        """The group named (or with the ARN) `name_or_arn`, if it exists."""
        return self._repo.get_by_arn(self._arn(name_or_arn))

    def get(self, name: str) -> ResourceRecord:
        record = self.find(name)
        if record is None:
            raise ValidationError(f"ModelPackageGroup {self._arn(name)} does not exist.")
        return record

    def describe(self, name: str) -> dict[str, Any]:
        return public(self.get(name).document)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("CrossAccountFilterOption") == "CrossAccount":
            # Nothing is shared with this account from another: sagebox serves one account.
            return {self.family.list_member: [], "NextToken": None}
        return super().list(request)

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)

        def retire(group: ResourceRecord) -> None:
            # Checked under the group's lock, which allocate_version takes too: once the group
            # is Deleting it numbers no version, and a version allocated just before is
            # withdrawn by its registration (see `takes_versions`).
            versions, _ = self._packages.list(parent_arn=group.arn, max_results=1)
            if versions:
                raise ConflictError(
                    f"Model Package Group {group.arn} cannot be deleted: it still has model package "
                    f"versions (for example {versions[0].arn}). Delete its versions first."
                )
            internal(group)["deleting"] = True
            group.status = group.document["ModelPackageGroupStatus"] = DELETING

        self._modify(record, retire)
        return super().delete(record.name)

    def takes_versions(self, arn: str) -> bool:
        """Whether the group exists and is not being deleted, read under the group's lock so
        that a deletion checking for versions either sees the caller's or refuses it."""
        record = self._repo.get_by_arn(arn)
        if record is None:
            return False
        verdict: list[bool] = []
        try:
            self._repo.modify(record.name, lambda group: verdict.append(not internal(group).get("deleting")))
        except NotFound:
            return False
        return verdict[0]

    # -- versions --------------------------------------------------------------------

    def allocate_version(self, name_or_arn: str, client_token: str | None) -> VersionAllocation:
        """The next version number of the group, or the one `client_token` already got."""
        record = self.find(name_or_arn)
        if record is None:
            raise ValidationError(GROUP_MISSING)
        allocated: dict[str, Any] = {}

        def allocate(group: ResourceRecord) -> None:
            state = internal(group)
            if state.get("deleting"):
                raise ValidationError(GROUP_MISSING)
            tokens: list[list[Any]] = state.setdefault("client_tokens", [])
            known = next((version for token, version in tokens if client_token and token == client_token), None)
            if known is not None:
                allocated.update(version=known, creation_time=0.0, existing=True)
                return
            version = int(state.get("latest_version", 0)) + 1
            # Strictly increasing within the group, so CreationTime order is version order; in
            # milliseconds, as SageMaker's times are, so a time read back filters exactly.
            now = round(max(time.time(), float(state.get("latest_creation_time", 0.0)) + 0.001), 3)
            state.update(latest_version=version, latest_creation_time=now)
            if client_token:
                tokens.append([client_token, version])
                del tokens[:-KEPT_CLIENT_TOKENS]
            allocated.update(version=version, creation_time=now, existing=False)

        try:
            self._repo.modify(record.name, allocate)
        except NotFound as exc:
            raise ValidationError(GROUP_MISSING) from exc
        return VersionAllocation(record.name, record.arn, **allocated)

    # -- resource policy -------------------------------------------------------------

    def put_policy(self, name: str, policy: str) -> dict[str, Any]:
        record = self.get(name)
        _check_policy(policy)

        def store(group: ResourceRecord) -> None:
            internal(group)["resource_policy"] = policy

        self._modify(record, store)
        return {"ModelPackageGroupArn": record.arn}

    def get_policy(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        policy = internal(record).get("resource_policy")
        if policy is None:
            raise ValidationError(f"Cannot find resource policy for ModelPackageGroup {record.arn}.")
        return {"ResourcePolicy": policy}

    def delete_policy(self, name: str) -> dict[str, Any]:
        record = self.get(name)

        def remove(group: ResourceRecord) -> None:
            if internal(group).pop("resource_policy", None) is None:
                raise ValidationError(f"Cannot find resource policy for ModelPackageGroup {group.arn}.")

        self._modify(record, remove)
        return {}

    # -- helpers ---------------------------------------------------------------------

    def _arn(self, name_or_arn: str) -> str:
        return normalized_arn(name_or_arn) if is_arn(name_or_arn) else self.arn_of(name_or_arn)

    def _modify(self, record: ResourceRecord, change: Callable[[ResourceRecord], None]) -> None:
        try:
            self._repo.modify(record.name, change)
        except NotFound as exc:
            raise ValidationError(f"ModelPackageGroup {record.arn} does not exist.") from exc


def _check_policy(policy: str) -> None:
    """A resource policy must be an IAM policy document: a JSON object with a Statement."""
    try:
        document = json.loads(policy)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"ResourcePolicy is not valid JSON: {exc}.") from exc
    if not isinstance(document, dict) or "Statement" not in document:
        raise ValidationError("ResourcePolicy must be a JSON policy document with a Statement.")
