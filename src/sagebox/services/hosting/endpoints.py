"""Endpoints: Create / Describe / List / Update (blue/green) / weights and capacities / Delete.

EndpointStatus: Creating -> InService | Failed; InService -> Updating -> InService
(a failed update keeps the old fleet serving and says why in FailureReason);
Deleting. Every endpoint's processes live in a Deployment; a restarted server brings
InService endpoints back from the configuration snapshot kept in their record.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import Executor
from sagebox.runtime.venv_cache import VirtualEnvCache
from sagebox.services.errors import InvocationValidationError, ValidationError
from sagebox.services.families import ENDPOINT
from sagebox.services.hosting.deployments import new_deployment, variant_summaries
from sagebox.services.hosting.endpoint_configs import EndpointConfigService
from sagebox.services.hosting.fleet import Deployment, FleetStartError
from sagebox.services.hosting.models import ModelService
from sagebox.services.hosting.requests import check_desired_weights
from sagebox.services.job_states import touch
from sagebox.services.resources import RecordService
from sagebox.store import MetadataStore, NotFound, ResourceRecord

log = logging.getLogger(__name__)

_WORKER_THREADS = 8


class EndpointService(RecordService):
    family = ENDPOINT

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        models: ModelService,
        endpoint_configs: EndpointConfigService,
        executor: Executor,
    ) -> None:
        super().__init__(settings, store)
        self._objects = objects
        self._models = models
        self._configs = endpoint_configs
        self._executor = executor
        self._deployments: dict[str, Deployment] = {}
        # Every endpoint's status as last committed, so the invocation path never
        # waits on the metadata store.
        self._statuses: dict[str, str] = {}
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=_WORKER_THREADS, thread_name_prefix="endpoint")

    # -- API -----------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["EndpointName"]
        config = self._configs.describe(request["EndpointConfigName"])
        snapshot = self._snapshot(config)
        document = {
            "EndpointConfigName": config["EndpointConfigName"],
            "EndpointStatus": "Creating",
            "LastModifiedTime": time.time(),
            "_sagebox": snapshot,
        }
        document.update(self._static_members(config))
        record = self._insert(name, document, status="Creating", tags=request.get("Tags"))
        self._statuses[name] = record.status
        deploying = self._workers.submit(self._deploy_new, name)
        # The answer is the same either way; waiting a little lets boto3's endpoint_in_service
        # waiter (which checks at once, then every 30 s) usually succeed at its first check.
        wait([deploying], timeout=self._settings.endpoint_ready_wait_seconds)
        return {"EndpointArn": record.arn}

    def describe(self, name: str) -> dict[str, Any]:
        document = super().describe(name)
        record = self.get(name)
        config = record.document["_sagebox"]["config"]
        with self._lock:
            deployment = self._deployments.get(name)
        # When the images were resolved: when this configuration was deployed, kept in the record.
        resolved = record.document["_sagebox"].get("resolved_at") or record.document["CreationTime"]
        document["ProductionVariants"] = variant_summaries(deployment, config, "ProductionVariants", resolved)
        if config.get("ShadowProductionVariants"):
            document["ShadowProductionVariants"] = variant_summaries(deployment, config, "ShadowProductionVariants", resolved)
        return document


    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["EndpointName"]
        config = self._configs.describe(request["EndpointConfigName"])
        snapshot = self._snapshot(config)

        def updating(record: ResourceRecord) -> None:
            if record.status != "InService":
                raise ValidationError(
                    f'Cannot update in-progress endpoint "{record.arn}": it is {record.status}; '
                    "only an InService endpoint can be updated."
                )
            self._set_status(record, "Updating")
            record.document["_sagebox"]["pending"] = snapshot

        record = self._modify(name, updating)
        self._workers.submit(self._deploy_update, name)
        return {"EndpointArn": record.arn}

    def update_weights_and_capacities(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["EndpointName"]
        desired = request["DesiredWeightsAndCapacities"]
        check_desired_weights(desired)
        with self._lock:
            deployment = self._deployments.get(name)

        def updating(record: ResourceRecord) -> None:
            if record.status != "InService" or deployment is None:
                raise ValidationError(
                    f'Cannot update in-progress endpoint "{record.arn}": it is {record.status}.'
                )
            for entry in desired:
                fleet = deployment.variants.get(entry["VariantName"])
                if fleet is None:
                    raise ValidationError(
                        f"The variant(s) \"[{entry['VariantName']}]\" is/are not present on endpoint "
                        f'"{record.arn}"; variants: {sorted(deployment.variants)}.'
                    )
                if "DesiredInstanceCount" in entry and fleet.serverless is not None:
                    raise ValidationError(f"Variant {entry['VariantName']} is serverless and has no instance count.")
            capacities = record.document["_sagebox"].setdefault("capacities", {})
            for entry in desired:
                current = capacities.setdefault(entry["VariantName"], {})
                if "DesiredWeight" in entry:
                    current["weight"] = entry["DesiredWeight"]
                if "DesiredInstanceCount" in entry:
                    current["count"] = entry["DesiredInstanceCount"]
            self._set_status(record, "Updating")

        record = self._modify(name, updating)
        self._workers.submit(self._apply_capacities, name, desired)
        return {"EndpointArn": record.arn}

    def delete(self, name: str) -> dict[str, Any]:
        record = self._modify(name, lambda r: self._set_status(r, "Deleting"))
        with self._lock:
            deployment = self._deployments.pop(name, None)
        if deployment is not None:
            deployment.stop()
            deployment.remove_files()
        super().delete(name)
        self._statuses.pop(name, None)
        log.info("endpoint %s deleted (%s)", name, record.arn)
        return {}

    # -- what the invocation path needs ---------------------------------------------

    def live(self, name: str) -> Deployment:
        """The endpoint's running deployment, for an invocation (memory only)."""
        status = self._statuses.get(name)
        with self._lock:
            deployment = self._deployments.get(name)
        if status is None:
            raise InvocationValidationError(
                f"Endpoint {name} of account {self._settings.account_id} not found."
            )
        if status not in ("InService", "Updating") or deployment is None:
            raise InvocationValidationError(
                f"Endpoint {name} of account {self._settings.account_id} is not in service "
                f"(status {status})."
            )
        return deployment

    def deployments(self) -> list[tuple[str, Deployment]]:
        with self._lock:
            return list(self._deployments.items())

    # -- background work -------------------------------------------------------------

    def _deploy_new(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None:
            return
        state = record.document["_sagebox"]
        try:
            deployment = self._start(name, state["config"], state["models"], state.get("capacities"))
        except Exception as exc:  # any failure must end Creating, never leave it hanging
            if not isinstance(exc, FleetStartError):
                log.exception("endpoint %s could not be deployed", name)
            reason = str(exc) if isinstance(exc, FleetStartError) else f"sagebox could not deploy the endpoint: {exc!r}"
            self._modify(name, lambda r: self._fail(r, reason))
            return
        with self._lock:
            self._deployments[name] = deployment
        self._modify(name, lambda r: self._set_status(r, "InService"))

    def _deploy_update(self, name: str, *, resumed: bool = False) -> None:
        """Blue/green: the new fleet starts, takes the traffic, then the old one drains.

        `resumed`: the update was interrupted by a restart of the server, so no fleet serves
        yet; if the new configuration cannot start, the previous one is brought back.
        """
        record = self._repo.get(name)
        if record is None:
            return
        state = record.document["_sagebox"]
        pending = state["pending"]
        try:
            deployment = self._start(name, pending["config"], pending["models"], None)
        except Exception as exc:  # the old fleet keeps serving whatever went wrong
            if not isinstance(exc, FleetStartError):
                log.exception("endpoint %s could not be updated", name)
            reason = str(exc)
            if resumed and not self._bring_back(name, state, reason):
                return
            how = "was interrupted by a restart of sagebox, could not be resumed" if resumed else "failed"

            def rolled_back(r: ResourceRecord) -> None:
                r.document["_sagebox"].pop("pending", None)
                r.document["FailureReason"] = (
                    f"Updating the endpoint to configuration {pending['config']['EndpointConfigName']} "
                    f"{how} and it kept serving its previous configuration: {reason}"
                )[:1024]
                self._set_status(r, "InService")

            self._modify(name, rolled_back)
            return
        with self._lock:
            old = self._deployments.get(name)
            self._deployments[name] = deployment  # new requests go to the new fleet from here on

        def updated(r: ResourceRecord) -> None:
            state = r.document["_sagebox"]
            previous = state["config"]["EndpointConfigName"]
            state.update(
                config=pending["config"], models=pending["models"], capacities={}, resolved_at=pending["resolved_at"]
            )
            state.pop("pending", None)
            r.document.pop("FailureReason", None)
            r.document["EndpointConfigName"] = pending["config"]["EndpointConfigName"]
            r.document.update(self._static_members(pending["config"]))
            log.info("endpoint %s moved from %s to %s", name, previous, r.document["EndpointConfigName"])
            self._set_status(r, "InService")

        self._modify(name, updated)
        if old is not None:
            old.stop()  # drains in-flight requests first
            old.remove_files()

    def _bring_back(self, name: str, state: dict[str, Any], update_failure: str) -> bool:
        """Starts the configuration an endpoint served before an update that could not be
        resumed; the endpoint fails, saying both, when that cannot start either."""
        try:
            previous = self._start(name, state["config"], state["models"], state.get("capacities"))
        except Exception as exc:
            reason = (
                f"Updating the endpoint was interrupted by a restart of sagebox and could not be resumed "
                f"({update_failure}); its previous configuration could not start either: {exc}"
            )
            self._modify(name, lambda r: self._fail(r, reason))
            return False
        with self._lock:
            self._deployments[name] = previous
        return True

    def _apply_capacities(self, name: str, desired: list[dict[str, Any]]) -> None:
        with self._lock:
            deployment = self._deployments.get(name)
        failure = None
        if deployment is not None:
            for entry in desired:
                fleet = deployment.variants[entry["VariantName"]]
                if "DesiredWeight" in entry:
                    fleet.weight = float(entry["DesiredWeight"])
                if "DesiredInstanceCount" in entry:
                    fleet.desired_count = int(entry["DesiredInstanceCount"])
                    try:
                        fleet.scale_to(fleet.desired_count)
                    except FleetStartError as exc:
                        failure = str(exc)

        def done(r: ResourceRecord) -> None:
            if failure:
                r.document["FailureReason"] = f"Scaling the endpoint failed: {failure}"[:1024]
            self._set_status(r, "InService")

        self._modify(name, done)

    def _start(self, name: str, config: dict[str, Any], models: dict[str, Any], capacities: dict[str, Any] | None) -> Deployment:
        folder = self._settings.home / "endpoints" / name
        venvs = VirtualEnvCache(self._settings.venvs_dir)
        deployment = new_deployment(self._executor, self._objects, folder, config, models, capacities, venvs)
        try:
            deployment.start()
        except FleetStartError:
            deployment.remove_files()
            raise
        return deployment

    # -- restarts --------------------------------------------------------------------

    def recover(self) -> None:
        """Brings back every endpoint that was serving (or on its way) when the server stopped."""
        for record in self._repo.list_by_status(["Failed", "OutOfService"]):
            self._statuses[record.name] = record.status
        records = self._repo.list_by_status(["InService", "Creating", "Updating", "Deleting"])
        futures = []
        for record in records:
            if record.status == "Deleting":
                self.delete(record.name)
            elif record.status == "Updating" and record.document["_sagebox"].get("pending"):
                # An UpdateEndpoint the restart interrupted goes on (or rolls back, saying so).
                futures.append(self._workers.submit(self._deploy_update, record.name, resumed=True))
            else:  # serving, being created, or in a weights/capacities update (kept in the record)
                futures.append(self._workers.submit(self._deploy_new, record.name))
        for future in futures:
            future.result()

    def shutdown(self) -> None:
        with self._lock:
            deployments, self._deployments = list(self._deployments.values()), {}
        for deployment in deployments:
            deployment.stop()
        self._workers.shutdown(wait=False, cancel_futures=True)

    # -- helpers ---------------------------------------------------------------------

    def _snapshot(self, config: dict[str, Any]) -> dict[str, Any]:
        """What a deployment is made from, kept in the record: the configuration, its models,
        and the time its images were resolved (DeployedImages' ResolutionTime)."""
        names = {v["ModelName"] for v in [*config["ProductionVariants"], *(config.get("ShadowProductionVariants") or [])]}
        return {
            "config": copy.deepcopy(config),
            "models": {n: self._models.describe(n) for n in sorted(names)},
            "resolved_at": time.time(),
        }

    @staticmethod
    def _static_members(config: dict[str, Any]) -> dict[str, Any]:
        members: dict[str, Any] = {}
        capture = config.get("DataCaptureConfig")
        if capture:
            members["DataCaptureConfig"] = {
                "EnableCapture": capture.get("EnableCapture", True),
                "CaptureStatus": "Started" if capture.get("EnableCapture", True) else "Stopped",
                "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
                "DestinationS3Uri": capture["DestinationS3Uri"],
            }
        if config.get("AsyncInferenceConfig"):
            members["AsyncInferenceConfig"] = config["AsyncInferenceConfig"]
        return members

    def _modify(self, name: str, change: Callable[[ResourceRecord], None]) -> ResourceRecord:
        try:
            record = self._repo.modify(name, change)
        except NotFound as exc:
            raise ValidationError(f'Could not find endpoint "{self.arn_of(name)}".') from exc
        self._statuses[name] = record.status
        return record

    @staticmethod
    def _set_status(record: ResourceRecord, status: str) -> None:
        record.status = status
        record.document["EndpointStatus"] = status
        touch(record, time.time())

    def _fail(self, record: ResourceRecord, reason: str) -> None:
        record.document["FailureReason"] = reason[:1024]
        self._set_status(record, "Failed")
