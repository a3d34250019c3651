"""The four monitoring job definition families: Create / Describe / List / Delete.

DataQuality and ModelQuality definitions run the Model Monitor analyzer (or a custom
image); ModelBias and ModelExplainability ones run the Clarify image with the analysis
configuration at their ``ConfigUri``, as SageMaker does. A definition is a record: what a
schedule's executions run. It cannot be deleted while a schedule uses it, as in SageMaker.
"""

from __future__ import annotations

import copy
import time
from typing import Any, ClassVar

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.services.errors import ResourceInUse, ResourceNotFound
from sagebox.services.events import CREATED, DELETED
from sagebox.services.families import (
    DATA_QUALITY_JOB_DEFINITION,
    MODEL_BIAS_JOB_DEFINITION,
    MODEL_EXPLAINABILITY_JOB_DEFINITION,
    MODEL_QUALITY_JOB_DEFINITION,
)
from sagebox.services.job_states import public, to_datetime
from sagebox.services.monitoring import checks, listing
from sagebox.services.resources import RecordService
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord

SCHEDULE_KIND = "MonitoringSchedule"


class JobDefinitionService(RecordService):
    """One family of monitoring job definitions; subclasses name their prefix and family."""

    monitoring_type: ClassVar[str]
    """DataQuality, ModelQuality, ModelBias or ModelExplainability: the members' prefix."""
    needs_ground_truth: ClassVar[bool] = False

    def __init__(self, settings: Settings, store: MetadataStore, objects: ObjectStore, processing: Any) -> None:
        super().__init__(settings, store)
        self._objects = objects
        self._processing = processing

    def member(self, part: str) -> str:
        return f"{self.monitoring_type}{part}"

    def not_found(self, name: str) -> ResourceNotFound:
        return ResourceNotFound(f"Could not find job definition {name}: no {self.family.noun} has that name.")

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise self.not_found(name)
        return record

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["JobDefinitionName"]
        input_path = checks.check_job_input(self.member("JobInput"), request[self.member("JobInput")], self.needs_ground_truth)
        checks.check_output(self.member("JobOutputConfig"), request[self.member("JobOutputConfig")], input_path)
        checks.check_app(self.member("AppSpecification"), request[self.member("AppSpecification")])
        checks.check_baseline(self.member("BaselineConfig"), request.get(self.member("BaselineConfig")), self._objects, self._processing)
        self.check_specific(request)
        now = time.time()
        arn = self.arn_of(name)
        document = {key: copy.deepcopy(value) for key, value in request.items() if key != "Tags"}
        document.update({"JobDefinitionArn": arn, "CreationTime": now})
        moment = to_datetime(now)
        record = ResourceRecord(self.family.kind, name, arn, "", moment, moment, document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ResourceInUse(f"Job definition {name} already exists ({arn}).") from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self.publish(CREATED, record)
        return {"JobDefinitionArn": arn}

    def check_specific(self, request: dict[str, Any]) -> None:
        """What only this family checks (nothing by default)."""

    def endpoint_name(self, document: dict[str, Any]) -> str:
        job_input = document.get(self.member("JobInput")) or {}
        return str((job_input.get("EndpointInput") or {}).get("EndpointName", ""))

    def summary(self, record: ResourceRecord) -> dict[str, Any]:
        return {
            "MonitoringJobDefinitionName": record.name, "MonitoringJobDefinitionArn": record.arn,
            "CreationTime": record.document["CreationTime"], "EndpointName": self.endpoint_name(record.document),
        }

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        filters = listing.conditions(request, "JobDefinitionName", None)
        if request.get("EndpointName"):
            filters.append(listing.equals((self.member("JobInput"), "EndpointInput", "EndpointName"), request["EndpointName"]))
        return listing.page(self._repo, request, filters, self.family.list_member, self.summary)

    def describe(self, name: str) -> dict[str, Any]:
        return public(self.get(name).document)

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        users = [
            s.name for s in self._store.resources(SCHEDULE_KIND).query(
                listing.equals(("MonitoringScheduleConfig", "MonitoringJobDefinitionName"), name), max_results=5)[0]
            if (s.document.get("MonitoringScheduleConfig") or {}).get("MonitoringType", "DataQuality") == self.monitoring_type
        ]
        if users:
            raise ResourceInUse(
                f"Job definition {name} is used by the monitoring schedule {users[0]}; delete the schedule first."
            )
        try:
            self._repo.delete(name)
        except NotFound as exc:
            raise self.not_found(name) from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)
        return {}


class DataQualityJobDefinitionService(JobDefinitionService):
    family = DATA_QUALITY_JOB_DEFINITION
    monitoring_type = "DataQuality"


class ModelQualityJobDefinitionService(JobDefinitionService):
    family = MODEL_QUALITY_JOB_DEFINITION
    monitoring_type = "ModelQuality"
    needs_ground_truth = True


class ClarifyJobDefinitionService(JobDefinitionService):
    """Bias and explainability monitors: the Clarify image with a valid analysis configuration at
    ConfigUri, and an endpoint that exists and captures (their executions need its traffic)."""

    def __init__(
        self, settings: Settings, store: MetadataStore, objects: ObjectStore, processing: Any, endpoints: Any
    ) -> None:
        super().__init__(settings, store, objects, processing)
        self._endpoints = endpoints

    def check_specific(self, request: dict[str, Any]) -> None:
        where = self.member("AppSpecification")
        checks.check_clarify_app(where, request[where], self.monitoring_type, self._objects)
        endpoint = self.endpoint_name(request)
        if endpoint:
            checks.check_capturing_endpoint(f"{self.member('JobInput')}.EndpointInput.EndpointName", endpoint, self._endpoints)


class ModelBiasJobDefinitionService(ClarifyJobDefinitionService):
    family = MODEL_BIAS_JOB_DEFINITION
    monitoring_type = "ModelBias"
    needs_ground_truth = True


class ModelExplainabilityJobDefinitionService(ClarifyJobDefinitionService):
    family = MODEL_EXPLAINABILITY_JOB_DEFINITION
    monitoring_type = "ModelExplainability"
