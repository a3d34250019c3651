"""Notebook instances: each InService instance is a real JupyterLab server.

Statuses as SageMaker reports them: Create and Start go Pending -> InService (or Failed
with a FailureReason), Stop goes Stopping -> Stopped, Delete (only when Stopped or
Failed) goes Deleting and then the instance is gone, Update (only when Stopped) goes
Updating -> Stopped. Starting runs the lifecycle configuration's OnCreate script the
first time and its OnStart script every time, in the instance's folder
(`<home>/notebooks/<name>`, its "EBS volume": kept across Stop/Start, removed on Delete),
then the JupyterLab server (runtime/notebook_server.py) with this server's
AWS_ENDPOINT_URL and credentials in its environment, so boto3 and `sagemaker.Session()`
inside a notebook talk to this sagebox. After a restart every instance that was Pending,
InService or Updating is started again and one caught Stopping or Deleting is finished;
the previous server's JupyterLab process is ended first, so nothing is orphaned.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagebox.config import Settings
from sagebox.runtime.executor import Executor
from sagebox.runtime.notebook_server import (
    MISSING_JUPYTERLAB,
    JupyterLabProcess,
    NotebookStartError,
    jupyterlab_installed,
    run_lifecycle_script,
)
from sagebox.services.errors import ValidationError
from sagebox.services.events import UPDATED
from sagebox.services.families import NOTEBOOK_INSTANCE
from sagebox.services.job_api_access import JobApiAccess, with_api_access
from sagebox.services.job_states import internal, to_datetime
from sagebox.services.leases import Leases
from sagebox.services.listing import list_resources, page_of
from sagebox.services.notebooks.lifecycle_configs import (
    NotebookInstanceLifecycleConfigService,
    decoded,
)
from sagebox.services.resources import RecordService
from sagebox.store import MetadataStore, NotFound, ResourceRecord

log = logging.getLogger(__name__)

PENDING, IN_SERVICE, STOPPING, STOPPED, FAILED, DELETING, UPDATING = (
    "Pending",
    "InService",
    "Stopping",
    "Stopped",
    "Failed",
    "Deleting",
    "Updating",
)
KEPT = (
    "InstanceType",
    "SubnetId",
    "RoleArn",
    "KmsKeyId",
    "DirectInternetAccess",
    "VolumeSizeInGB",
    "AcceleratorTypes",
    "DefaultCodeRepository",
    "AdditionalCodeRepositories",
    "RootAccess",
    "PlatformIdentifier",
    "InstanceMetadataServiceConfiguration",
    "IpAddressType",
)
UPDATABLE = (
    "InstanceType",
    "RoleArn",
    "VolumeSizeInGB",
    "DefaultCodeRepository",
    "AdditionalCodeRepositories",
    "AcceleratorTypes",
    "RootAccess",
    "PlatformIdentifier",
    "InstanceMetadataServiceConfiguration",
    "IpAddressType",
)
DISASSOCIATIONS = {
    "DisassociateLifecycleConfig": "NotebookInstanceLifecycleConfigName",
    "DisassociateAcceleratorTypes": "AcceleratorTypes",
    "DisassociateDefaultCodeRepository": "DefaultCodeRepository",
    "DisassociateAdditionalCodeRepositories": "AdditionalCodeRepositories",
}
SESSION_SECONDS_DEFAULT = 43200  # CreatePresignedNotebookInstanceUrl's documented default


class NotebookInstanceService(RecordService):
    family = NOTEBOOK_INSTANCE

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        executor: Executor,
        notebook_lifecycle_configs: NotebookInstanceLifecycleConfigService,
    ) -> None:
        super().__init__(settings, store)
        self._executor = executor
        self._configs = notebook_lifecycle_configs
        self._api = JobApiAccess(settings, store)
        self._servers: dict[str, JupyterLabProcess] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        # Servers sharing a store: the one holding an instance's lease runs its JupyterLab.
        self.leases = Leases(None)

    def folder(self, name: str) -> Path:
        return self._settings.home / "notebooks" / name

    # -- standard verbs --------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["NotebookInstanceName"]
        config = request.get("LifecycleConfigName")
        if config:
            self._configs.get(config)
        document: dict[str, Any] = {key: request[key] for key in KEPT if key in request}
        document.setdefault("DirectInternetAccess", "Enabled")
        document.setdefault("VolumeSizeInGB", 5)
        document.setdefault("RootAccess", "Enabled")
        document.setdefault("PlatformIdentifier", "notebook-al2-v2")
        if config:
            document["NotebookInstanceLifecycleConfigName"] = config
        document.update(
            NotebookInstanceStatus=PENDING,
            LastModifiedTime=time.time(),
            _sagebox={"created": False},
        )
        if not self.leases.claim(self.arn_of(name)):
            raise ValidationError(f"Cannot create a duplicate Notebook Instance ({self.arn_of(name)})")
        try:
            record = self._insert(name, document, PENDING, tags=request.get("Tags"))
        except ValidationError as exc:
            self.leases.release(self.arn_of(name))
            raise ValidationError(
                f"Cannot create a duplicate Notebook Instance ({self.arn_of(name)})"
            ) from exc
        self._in_background(name, self._bring_up)
        return {"NotebookInstanceArn": record.arn}

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise ValidationError("RecordNotFound")
        return record

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        config = request.get("NotebookInstanceLifecycleConfigNameContains")
        code = request.get("DefaultCodeRepositoryContains")
        additional = request.get("AdditionalCodeRepositoryEquals")
        if not (config or code or additional):
            return list_resources(self._repo, request, self.family, summary=_summary)
        # Filters the store does not index: applied to every record, then paged here.
        records, token = self._repo.list(
            name_contains=request.get("NameContains"),
            status_equals=request.get("StatusEquals"),
            creation_time_after=request.get("CreationTimeAfter"),
            creation_time_before=request.get("CreationTimeBefore"),
            last_modified_time_after=request.get("LastModifiedTimeAfter"),
            last_modified_time_before=request.get("LastModifiedTimeBefore"),
            sort_by=request.get("SortBy") or "CreationTime",
            sort_order=request.get("SortOrder") or "Descending",
            max_results=10_000,
        )
        kept = [
            r
            for r in records
            if (
                not config
                or config in (r.document.get("NotebookInstanceLifecycleConfigName") or "")
            )
            and (not code or code in (r.document.get("DefaultCodeRepository") or ""))
            and (
                not additional or additional in (r.document.get("AdditionalCodeRepositories") or [])
            )
        ]
        page, token = page_of(kept, request)
        return {self.family.list_member: [_summary(r) for r in page], "NextToken": token}

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["NotebookInstanceName"]
        self.get(name)
        if request.get("LifecycleConfigName"):
            self._configs.get(request["LifecycleConfigName"])

        def change(r: ResourceRecord) -> None:
            _check_status(r, (STOPPED,), UPDATING)
            for key in UPDATABLE:
                if key in request:
                    r.document[key] = request[key]
            if request.get("LifecycleConfigName"):
                r.document["NotebookInstanceLifecycleConfigName"] = request["LifecycleConfigName"]
            for flag, member in DISASSOCIATIONS.items():
                if request.get(flag):
                    r.document.pop(member, None)
            # SageMaker passes through Updating; sagebox applies the change at once.
            self._set_status(r, STOPPED)

        self._modify(name, change)
        return {}

    def stop(self, name: str) -> dict[str, Any]:
        self.get(name)
        self._transition(name, (IN_SERVICE,), STOPPING)
        self._in_background(name, self._bring_down)
        return {}

    def start(self, name: str) -> dict[str, Any]:
        self.get(name)
        self._transition(name, (STOPPED, FAILED), PENDING)
        self.leases.claim(self.arn_of(name))  # the server that starts it runs it
        self._in_background(name, self._bring_up)
        return {}

    def delete(self, name: str) -> dict[str, Any]:
        self.get(name)
        self._transition(name, (STOPPED, FAILED), DELETING)
        self._in_background(name, self._remove)
        return {}

    def presigned_url(self, request: dict[str, Any]) -> dict[str, Any]:
        """The Lab's URL with a token of its own: it opens the Lab within 5 minutes, and the
        login it gives lasts SessionExpirationDurationInSeconds."""
        name = request["NotebookInstanceName"]
        seconds = request.get("SessionExpirationDurationInSeconds", SESSION_SECONDS_DEFAULT)
        if not 1800 <= seconds <= 43200:
            raise ValidationError(
                f"SessionExpirationDurationInSeconds must be between 1800 and 43200; {seconds} was given."
            )
        record = self.get(name)
        server = self._servers.get(name)
        if record.status != IN_SERVICE or server is None:
            raise ValidationError(
                f"Notebook Instance {record.arn} is {record.status}; a presigned URL needs it InService."
            )
        with self._lock:  # one writer of the instance's token file at a time
            return {"AuthorizedUrl": server.presigned_url(seconds)}

    # -- transitions (background) ----------------------------------------------------

    def _bring_up(self, name: str) -> None:
        record = self.get(name)
        folder = self.folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SageMaker").mkdir(exist_ok=True)
        env = with_api_access(dict(os.environ), self._api.environment(), None)
        try:
            if (
                not jupyterlab_installed()
            ):  # before the scripts: OnCreate then runs at a later start
                raise NotebookStartError(MISSING_JUPYTERLAB)
            config_name = record.document.get("NotebookInstanceLifecycleConfigName")
            config = self._configs.get(config_name).document if config_name else {}
            if not internal(record).get("created"):
                script = decoded(config, "OnCreate")
                if script is not None:
                    run_lifecycle_script(script, "create", folder, env)
                self._modify(name, lambda r: internal(r).update(created=True))
            script = decoded(config, "OnStart")
            if script is not None:
                run_lifecycle_script(script, "start", folder, env)
            server = JupyterLabProcess(self._executor, folder, env)
            with self._lock:
                if self._closing.is_set():  # shutting down: the next server starts it
                    return
                server.start()
                self._servers[name] = server
            # Kept at once, so a server that dies now lets its successor end this process.
            token = server.execution_token
            self._modify(name, lambda r: internal(r).update(execution=token))
            server.wait_ready()
        except (NotebookStartError, ValidationError, OSError) as exc:
            with self._lock:
                self._servers.pop(name, None)
            reason = str(exc)
            self._modify(name, lambda r: self._fail(r, reason))
            return

        def serving(r: ResourceRecord) -> None:
            r.document.pop("FailureReason", None)
            r.document["Url"] = server.url.removeprefix("http://")
            internal(r)["execution"] = server.execution_token
            self._set_status(r, IN_SERVICE)

        self._modify(name, serving)

    def _bring_down(self, name: str) -> None:
        self._end_server(name)

        def stopped(r: ResourceRecord) -> None:
            r.document.pop("Url", None)
            internal(r).pop("execution", None)
            self._set_status(r, STOPPED)

        self._modify(name, stopped)
        self.leases.release(self.arn_of(name))

    def _remove(self, name: str) -> None:
        self._end_server(name)
        shutil.rmtree(self.folder(name), ignore_errors=True)
        with contextlib.suppress(ValidationError):
            super().delete(name)
        self.leases.release(self.arn_of(name))

    def _end_server(self, name: str) -> None:
        with self._lock:
            server = self._servers.pop(name, None)
        if server is not None:
            server.stop()

    def _fail(self, record: ResourceRecord, reason: str) -> None:
        record.document["FailureReason"] = reason
        record.document.pop("Url", None)
        self._set_status(record, FAILED)

    def _transition(self, name: str, allowed: tuple[str, ...], target: str) -> None:
        """Moves the instance to `target`, checked in the same transaction as the write."""

        def change(record: ResourceRecord) -> None:
            _check_status(record, allowed, target)
            self._set_status(record, target)

        self._modify(name, change)

    @staticmethod
    def _set_status(record: ResourceRecord, status: str) -> None:
        now = time.time()
        record.status = record.document["NotebookInstanceStatus"] = status
        if status == PENDING:  # a new start: an earlier failure's reason no longer applies
            record.document.pop("FailureReason", None)
        record.document["LastModifiedTime"] = now
        record.last_modified_time = to_datetime(now)

    def _modify(self, name: str, change: Callable[[ResourceRecord], None]) -> None:
        try:
            record = self._repo.modify(name, change)
        except NotFound as exc:
            raise ValidationError("RecordNotFound") from exc
        self.publish(UPDATED, record)

    def _in_background(self, name: str, work: Callable[[str], None]) -> None:
        def run() -> None:
            try:
                work(name)
            except Exception:
                log.exception("notebook instance %s: transition failed", name)

        threading.Thread(target=run, name=f"notebook-{name}", daemon=True).start()

    # -- restart ---------------------------------------------------------------------

    def recover(self) -> None:
        """At start: adopts every instance no other server runs (embedded: all of them)."""
        self._adopt_orphans()

    def watch_leases(self) -> None:
        """Every few seconds with several servers: take over the instances of a dead server, and
        end the JupyterLab of an instance another server stopped or deleted."""
        with self._lock:
            running = list(self._servers)
        for name in running:
            record = self._repo.get(name)
            if record is None or record.status in (STOPPING, STOPPED, DELETING, FAILED):
                self._end_server(name)
        self._adopt_orphans()

    def _adopt_orphans(self) -> None:
        records = self._repo.list_by_status([PENDING, IN_SERVICE, UPDATING, STOPPING, DELETING])
        orphans = set(self.leases.orphans(record.arn for record in records))
        for record in records:
            if record.arn in orphans and self.leases.adopt(record.arn):
                self._recover_record(record)

    def _recover_record(self, record: ResourceRecord) -> None:
        """An instance whose server stopped: its leftover JupyterLab ends, then it comes back up
        here (or finishes stopping or deleting)."""
        token = internal(record).get("execution")
        if token:
            try:
                self._executor.end_leftovers(token)
            except Exception:  # a token the executor cannot read: nothing left to end
                log.warning(
                    "notebook instance %s: could not end its previous server", record.name
                )
        if record.status == DELETING:
            self._in_background(record.name, self._remove)
        elif record.status == STOPPING:
            self._in_background(record.name, self._bring_down)
        else:
            self._modify(record.name, lambda r: self._set_status(r, PENDING))
            self._in_background(record.name, self._bring_up)

    def shutdown(self) -> None:
        """Ends every JupyterLab server; their records stay InService and are started again
        by the next server's recovery."""
        with self._lock:
            self._closing.set()
            servers = list(self._servers.values())
            self._servers.clear()
        for server in servers:
            server.stop()


def _check_status(record: ResourceRecord, allowed: tuple[str, ...], target: str) -> None:
    """SageMaker's refusal of a transition from the instance's present status."""
    if record.status not in allowed:
        raise ValidationError(
            f"Status ({record.status}) not in ([{', '.join(allowed)}]). Unable to transition to "
            f"({target}) for Notebook Instance ({record.arn})."
        )


def _summary(record: ResourceRecord) -> dict[str, Any]:
    return {
        key: record.document[key]
        for key in NOTEBOOK_INSTANCE.summary_fields
        if key in record.document
    }
