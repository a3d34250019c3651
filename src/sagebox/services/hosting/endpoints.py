"""Endpoints: Create / Describe / List / Update (blue/green) / weights and capacities / Delete.

EndpointStatus: Creating -> InService | Failed; InService -> Updating -> InService
(a failed update keeps the old fleet serving and says why in FailureReason);
Deleting. Every endpoint's processes live in a Deployment; a restarted server brings
InService endpoints back from the configuration snapshot kept in their record.

Several servers may share one store (PostgreSQL): an endpoint's fleet (its start, health
checks, replacements, updates, deletion) is driven by the server holding its lease
(services/leases.py), which records where each instance listens in the endpoint's record
(routes.py). Any other server routes InvokeEndpoint to those instances; UpdateEndpoint,
UpdateEndpointWeightsAndCapacities and DeleteEndpoint received there are recorded and
carried out by the owner within a lease scan. When the owner dies another server adopts
the endpoint: it keeps routing to the instances the dead one left (Ray actors outlive
their server), starts a fleet of its own, then ends them: a takeover is a blue/green
redeployment, with no request lost where the old instances live on.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
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
from sagebox.services.hosting.routes import RouteTable, instance_entries, recorded_tokens
from sagebox.services.job_states import touch
from sagebox.services.leases import Leases
from sagebox.services.resources import RecordService
from sagebox.store import MetadataStore, NotFound, ResourceRecord

log = logging.getLogger(__name__)

_WORKER_THREADS = 8
SERVING = ("InService", "Updating")
# The statuses of an endpoint with a fleet (or one on its way, or going): driven under a lease.
ACTIVE = ("InService", "Creating", "Updating", "Deleting")
# After a takeover, how much longer than a lease scan the previous owner's instances serve, so
# that every other server has read the new ones from the record before they end.
DRAIN_MARGIN_SECONDS = 1.0


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
        self._workers = ThreadPoolExecutor(
            max_workers=_WORKER_THREADS, thread_name_prefix="endpoint"
        )
        # Which endpoints this server drives; the platform gives it the shared leases.
        self.leases = Leases(None)
        # Routes to the instances of endpoints other servers drive (used only when shared).
        self.routes = RouteTable(self._read_state)
        # Endpoints whose background work (deploying, updating, deleting) is under way here.
        self._busy: set[str] = set()

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
        arn = self.arn_of(name)
        held = self.leases.holds(arn)
        # The lease comes first: no other server may adopt the endpoint before its fleet starts.
        if not self.leases.claim(arn, self._lost_listener(name)):
            raise ValidationError(f'Cannot create already existing endpoint "{arn}".')
        try:
            record = self._insert(name, document, status="Creating", tags=request.get("Tags"))
        except BaseException:
            if not held:
                self.leases.release(arn)
            raise
        self._statuses[name] = record.status
        self._begin(name)
        deploying = self._workers.submit(self._run, name, self._deploy_new)
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
        document["ProductionVariants"] = variant_summaries(
            deployment, config, "ProductionVariants", resolved
        )
        if config.get("ShadowProductionVariants"):
            document["ShadowProductionVariants"] = variant_summaries(
                deployment, config, "ShadowProductionVariants", resolved
            )
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

        record = self._request(name, updating, self._deploy_update)
        return {"EndpointArn": record.arn}

    def update_weights_and_capacities(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["EndpointName"]
        desired = request["DesiredWeightsAndCapacities"]
        check_desired_weights(desired)

        def updating(record: ResourceRecord) -> None:
            if record.status != "InService":
                raise ValidationError(
                    f'Cannot update in-progress endpoint "{record.arn}": it is {record.status}.'
                )
            # Checked against the configuration served (kept in the record, so at any server).
            variants = {
                v["VariantName"]: v
                for v in record.document["_sagebox"]["config"]["ProductionVariants"]
            }
            for entry in desired:
                variant = variants.get(entry["VariantName"])
                if variant is None:
                    raise ValidationError(
                        f'The variant(s) "[{entry["VariantName"]}]" is/are not present on endpoint '
                        f'"{record.arn}"; variants: {sorted(variants)}.'
                    )
                if "DesiredInstanceCount" in entry and variant.get("ServerlessConfig") is not None:
                    raise ValidationError(
                        f"Variant {entry['VariantName']} is serverless and has no instance count."
                    )
            capacities = record.document["_sagebox"].setdefault("capacities", {})
            for entry in desired:
                current = capacities.setdefault(entry["VariantName"], {})
                if "DesiredWeight" in entry:
                    current["weight"] = entry["DesiredWeight"]
                if "DesiredInstanceCount" in entry:
                    current["count"] = entry["DesiredInstanceCount"]
            self._set_status(record, "Updating")

        record = self._request(name, updating, self._apply_capacities, desired)
        return {"EndpointArn": record.arn}

    def delete(self, name: str) -> dict[str, Any]:
        """Ends the fleet and the record at once where this server drives the endpoint (or
        no server does: it takes the lease); elsewhere records Deleting for its owner."""
        arn = self.get(name).arn
        owner = self.leases.holds(arn) or self.leases.claim(arn, self._lost_listener(name))
        if not owner:
            self._modify(name, lambda r: self._set_status(r, "Deleting"))
            log.info("endpoint %s: deletion recorded for the server that drives it", name)
            return {}
        self._begin(name)
        try:
            self._modify(name, lambda r: self._set_status(r, "Deleting"))
            self._remove(name)
        finally:
            self._end_work(name)
        return {}

    def _request(
        self,
        name: str,
        change: Callable[[ResourceRecord], None],
        work: Callable[..., None],
        *args: Any,
    ) -> ResourceRecord:
        """Records a requested change; the server driving the endpoint carries it out (this
        one at once, another at its next lease scan, `act_on_requests`)."""
        owner = self.leases.holds(self.arn_of(name))
        if owner:
            self._begin(name)
        try:
            record = self._modify(name, change)
        except BaseException:
            if owner:
                self._end_work(name)
            raise
        if owner:
            self._workers.submit(self._run, name, work, *args)
        return record

    # -- what the invocation path needs ---------------------------------------------

    def live(self, name: str) -> Deployment | None:
        """The endpoint's deployment, for an invocation: this server's own, or (when servers
        share the store) its route to the instances another server drives; from memory
        only. None when the route must be read from the store first (`route`)."""
        status = self._statuses.get(name)
        with self._lock:
            deployment = self._deployments.get(name)
        if deployment is not None and status in SERVING:
            return deployment
        if self.leases.shared:
            return self.routes.get(name)
        if status is None:
            raise InvocationValidationError(
                f"Endpoint {name} of account {self._settings.account_id} not found."
            )
        raise InvocationValidationError(
            f"Endpoint {name} of account {self._settings.account_id} is not in service "
            f"(status {status})."
        )

    def route(self, name: str) -> Deployment:
        """The route to an endpoint's recorded instances, read from the store (blocking)."""
        loaded = self.routes.load(name)
        if loaded is None:
            raise InvocationValidationError(
                f"Endpoint {name} of account {self._settings.account_id} not found."
            )
        status, deployment = loaded
        if deployment is None:
            raise InvocationValidationError(
                f"Endpoint {name} of account {self._settings.account_id} is not in service "
                f"(status {status})."
            )
        return deployment

    def _read_state(self, name: str) -> tuple[str, dict[str, Any]] | None:
        record = self._repo.get(name)
        return None if record is None else (record.status, record.document["_sagebox"])

    def deployments(self) -> list[tuple[str, Deployment]]:
        with self._lock:
            return list(self._deployments.items())

    # -- background work -------------------------------------------------------------

    def _begin(self, name: str) -> bool:
        """Marks work on `name` under way here; False when some already is."""
        with self._lock:
            if name in self._busy:
                return False
            self._busy.add(name)
            return True

    def _end_work(self, name: str) -> None:
        with self._lock:
            self._busy.discard(name)

    def _run(self, name: str, work: Callable[..., None], *args: Any) -> None:
        try:
            work(name, *args)
        except Exception:
            log.exception("endpoint %s: background work failed", name)
        finally:
            self._end_work(name)

    def _serve(self, name: str, deployment: Deployment) -> Deployment | None:
        """Makes `deployment` the one taking the endpoint's traffic here; the previous one."""
        with self._lock:
            old = self._deployments.get(name)
            self._deployments[name] = deployment
        self.routes.drop(name)
        return old

    def _deploy_new(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None:
            return
        state = record.document["_sagebox"]
        try:
            deployment = self._start(
                name, state["config"], state["models"], state.get("capacities")
            )
        except Exception as exc:  # any failure must end Creating, never leave it hanging
            if not isinstance(exc, FleetStartError):
                log.exception("endpoint %s could not be deployed", name)
            reason = (
                str(exc)
                if isinstance(exc, FleetStartError)
                else f"sagebox could not deploy the endpoint: {exc!r}"
            )
            self._failed(name, reason)
            return
        old = self._serve(name, deployment)

        def serving(r: ResourceRecord) -> None:
            r.document["_sagebox"]["serving"] = deployment.id
            self._set_status(r, "InService")

        self._modify(name, serving)
        if old is not None:
            self._retire(name, old)

    def _deploy_update(self, name: str, *, resumed: bool = False) -> None:
        """Blue/green: the new fleet starts, takes the traffic, then the old one drains.

        `resumed`: the update was interrupted by a restart of the server (or its server
        died), so no fleet of this server serves yet; if the new configuration cannot
        start, the previous one is brought back.
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
            how = (
                "was interrupted by a restart of sagebox, could not be resumed"
                if resumed
                else "failed"
            )
            with self._lock:
                current = self._deployments.get(name)

            def rolled_back(r: ResourceRecord) -> None:
                r.document["_sagebox"].pop("pending", None)
                if current is not None:
                    r.document["_sagebox"]["serving"] = current.id
                r.document["FailureReason"] = (
                    f"Updating the endpoint to configuration {pending['config']['EndpointConfigName']} "
                    f"{how} and it kept serving its previous configuration: {reason}"
                )[:1024]
                self._set_status(r, "InService")

            self._modify(name, rolled_back)
            return
        old = self._serve(name, deployment)  # new requests go to the new fleet from here on

        def updated(r: ResourceRecord) -> None:
            state = r.document["_sagebox"]
            previous = state["config"]["EndpointConfigName"]
            state.update(
                config=pending["config"],
                models=pending["models"],
                capacities={},
                resolved_at=pending["resolved_at"],
            )
            state.pop("pending", None)
            state["serving"] = deployment.id
            r.document.pop("FailureReason", None)
            r.document["EndpointConfigName"] = pending["config"]["EndpointConfigName"]
            r.document.update(self._static_members(pending["config"]))
            log.info(
                "endpoint %s moved from %s to %s", name, previous, r.document["EndpointConfigName"]
            )
            self._set_status(r, "InService")

        self._modify(name, updated)
        if old is not None:
            self._retire(name, old)  # drains in-flight requests first

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
            self._failed(name, reason)
            return False
        old = self._serve(name, previous)
        if old is not None:
            self._retire(name, old)
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

    def _apply_recorded_capacities(self, name: str) -> None:
        """UpdateEndpointWeightsAndCapacities received by another server: its record says what."""
        record = self._repo.get(name)
        if record is None:
            return
        capacities = record.document["_sagebox"].get("capacities") or {}
        desired = []
        for variant, wanted in capacities.items():
            entry: dict[str, Any] = {"VariantName": variant}
            if "weight" in wanted:
                entry["DesiredWeight"] = wanted["weight"]
            if "count" in wanted:
                entry["DesiredInstanceCount"] = wanted["count"]
            desired.append(entry)
        self._apply_capacities(name, desired)

    def _start(
        self,
        name: str,
        config: dict[str, Any],
        models: dict[str, Any],
        capacities: dict[str, Any] | None,
    ) -> Deployment:
        folder = self._settings.home / "endpoints" / name
        venvs = VirtualEnvCache(self._settings.venvs_dir)
        deployment = new_deployment(
            self._executor,
            self._objects,
            folder,
            config,
            models,
            capacities,
            venvs,
            outlive_server=self.leases.shared,
        )
        deployment.on_change(lambda: self._record_instances(name, deployment))
        try:
            deployment.start()
        except FleetStartError:
            deployment.retired = True
            self._record_instances(name, deployment)
            deployment.remove_files()
            raise
        return deployment

    def _retire(self, name: str, deployment: Deployment) -> None:
        """Ends a deployment that no longer takes traffic (draining it) and its record entry."""
        deployment.retired = True
        deployment.stop()
        deployment.remove_files()
        self._record_instances(name, deployment)

    def _record_instances(self, name: str, deployment: Deployment) -> None:
        """Writes where the deployment's instances listen in the endpoint's record (one
        transaction; the instances are read inside it, so the last write is the latest);
        a retired deployment's entry goes."""

        def write(record: ResourceRecord) -> None:
            instances = record.document["_sagebox"].setdefault("instances", {})
            if deployment.retired:
                instances.pop(deployment.id, None)
            else:
                instances[deployment.id] = instance_entries(deployment)

        with contextlib.suppress(NotFound):  # deleted meanwhile: nothing left to route to
            self._repo.modify(name, write)

    def _remove(self, name: str) -> None:
        """Ends the endpoint's fleet here and any instances a previous server left, then its record."""
        with self._lock:
            deployment = self._deployments.pop(name, None)
        if deployment is not None:
            deployment.retired = True
            deployment.stop()
            deployment.remove_files()
        record = self._repo.get(name)
        if record is not None:
            self._end_leftovers(name, recorded_tokens(record.document["_sagebox"]))
            with contextlib.suppress(ValidationError):  # gone already
                RecordService.delete(self, name)
            log.info("endpoint %s deleted (%s)", name, record.arn)
        self._statuses.pop(name, None)
        self.routes.drop(name)
        self.leases.release(self.arn_of(name))

    def _end_leftovers(self, name: str, tokens: list[dict[str, Any]]) -> None:
        for token in tokens:
            try:
                self._executor.end_leftovers(token)
            except Exception:  # a token the executor cannot read: nothing of it left to end
                log.warning(
                    "endpoint %s: could not end a previous server's instance %s", name, token
                )

    def _failed(self, name: str, reason: str) -> None:
        """The endpoint fails; no fleet left to drive, so its lease goes."""
        self._modify(name, lambda r: self._fail(r, reason))
        self.leases.release(self.arn_of(name))

    # -- several servers ---------------------------------------------------------------

    def watch_leases(self) -> None:
        """Every lease scan when servers share the store: carry out the requests other servers
        recorded for the endpoints this one drives, adopt those whose server died, and
        re-read the routes to the others."""
        self.act_on_requests()
        self._adopt_orphans()
        self.routes.refresh()

    def act_on_requests(self) -> None:
        for record in self._repo.list_by_status(["Updating", "Deleting"]):
            if not self.leases.holds(record.arn) or not self._begin(record.name):
                continue
            if record.status == "Deleting":
                log.info("endpoint %s was deleted through another server; deleting it", record.name)
                self._workers.submit(self._run, record.name, self._remove)
            elif record.document["_sagebox"].get("pending"):
                log.info("endpoint %s was updated through another server; updating it", record.name)
                self._workers.submit(self._run, record.name, self._deploy_update)
            else:
                self._workers.submit(self._run, record.name, self._apply_recorded_capacities)

    def _adopt_orphans(self) -> list[Future[None]]:
        """Takes over the active endpoints no server drives (embedded: all, at start)."""
        records = self._repo.list_by_status(list(ACTIVE))
        orphans = set(self.leases.orphans(record.arn for record in records))
        futures = []
        for record in records:
            if record.arn not in orphans or not self.leases.adopt(
                record.arn, self._lost_listener(record.name)
            ):
                continue
            current = self._repo.get(record.name)  # as it is now that no one else drives it
            if current is None or current.status not in ACTIVE:
                self.leases.release(record.arn)
                continue
            if self.leases.shared:
                log.warning(
                    "endpoint %s: its server's lease expired; this server takes it over",
                    record.name,
                )
            self._statuses[current.name] = current.status
            future = self._recover_record(current)
            if future is not None:
                futures.append(future)
        return futures

    def _recover_record(self, record: ResourceRecord) -> Future[None] | None:
        """An endpoint this server now drives after its previous server stopped. Its recorded
        instances are that server's leftovers. With one server nothing routes to them: they
        end first (their room on a cluster is free for the new fleet). With several, other
        servers still route to them: the new fleet starts, takes the traffic, and they end
        after every server has read the new one (a blue/green takeover)."""
        name = record.name
        if not self._begin(name):
            return None
        if record.status == "Deleting":
            return self._workers.submit(self._run, name, self._remove)
        leftovers = recorded_tokens(record.document["_sagebox"])
        shared = self.leases.shared
        stale = bool(record.document["_sagebox"].get("instances"))
        if not shared and stale:
            self._end_leftovers(name, leftovers)
            self._repo.modify(name, lambda r: r.document["_sagebox"].pop("instances", None))
            leftovers, stale = [], False
        resumed = record.status == "Updating" and bool(record.document["_sagebox"].get("pending"))

        def takeover(name: str) -> None:
            if resumed:  # an UpdateEndpoint the restart interrupted goes on (or rolls back)
                self._deploy_update(name, resumed=True)
            else:  # serving, being created, or in a weights/capacities update (kept in the record)
                self._deploy_new(name)
            if not stale:
                return
            if leftovers:
                time.sleep(self.leases.scan_seconds + DRAIN_MARGIN_SECONDS)
                self._end_leftovers(name, leftovers)
            with self._lock:
                current = self._deployments.get(name)

            def forget(r: ResourceRecord) -> None:
                instances = r.document["_sagebox"].get("instances") or {}
                for deployment_id in list(instances):
                    if current is None or deployment_id != current.id:
                        instances.pop(deployment_id)

            with contextlib.suppress(NotFound):
                self._repo.modify(name, forget)

        return self._workers.submit(self._run, name, takeover)

    def _lost_listener(self, name: str) -> Callable[[], None]:
        def lost() -> None:
            """Another server drives the endpoint now: this one stops supervising its fleet
            and leaves the instances to it (they are recorded: it ends them once its own serve)."""
            with self._lock:
                deployment = self._deployments.pop(name, None)
            if deployment is not None:
                deployment.on_change(lambda: None)
            self._statuses.pop(name, None)

        return lost

    # -- restarts --------------------------------------------------------------------

    def recover(self) -> None:
        """At start: brings back every endpoint that was serving (or on its way) when its
        server stopped and that no other server drives (embedded: all of them)."""
        for record in self._repo.list_by_status(["Failed", "OutOfService"]):
            self._statuses[record.name] = record.status
        for future in self._adopt_orphans():
            future.result()

    def shutdown(self) -> None:
        """Ends every fleet; with several servers the fleets stay up for the server that takes
        the endpoints over (it routes to them until its own serve, then ends them)."""
        with self._lock:
            deployments, self._deployments = list(self._deployments.values()), {}
        for deployment in deployments:
            if self.leases.shared:
                deployment.on_change(lambda: None)
            else:
                deployment.stop()
        self._workers.shutdown(wait=False, cancel_futures=True)

    # -- helpers ---------------------------------------------------------------------

    def _snapshot(self, config: dict[str, Any]) -> dict[str, Any]:
        """What a deployment is made from, kept in the record: the configuration, its models,
        and the time its images were resolved (DeployedImages' ResolutionTime)."""
        names = {
            v["ModelName"]
            for v in [
                *config["ProductionVariants"],
                *(config.get("ShadowProductionVariants") or []),
            ]
        }
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
