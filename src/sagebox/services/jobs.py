"""The job lifecycle shared by every long-running resource (training, processing,
transform and tuning jobs today; AutoML jobs, pipeline and monitoring executions next).

`JobService` owns what every job family does alike: Create (name check, record, tags,
launch), Describe, List, Stop, the queue of job slots, recovery after a restart and
shutdown. A concrete service keeps only its planning (`new_document`: validate the
request, build the Describe document) and the construction of its run (`build_run`).

`JobRun` is one execution of a job: it starts its hosts through the executor, can be
stopped or interrupted from any thread, and ends the job exactly once with an `Ending`.

Stopping, in one place: StopXxxJob moves a job that has not been launched yet straight
to Stopped, and a launched one to Stopping, then signals its run. The launch itself is
one transaction that refuses a job no longer InProgress and finishes a Stopping one, so
a stop racing a start never leaves a job Stopping; and whatever a run does, the service
ends a job its run left unfinished.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import (
    Execution,
    ExecutionOutcome,
    Executor,
    HostCommand,
    LineListener,
)
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ResourceInUse, ServiceError, ValidationError
from sagebox.services.events import CREATED, ENDED, EventBus, ResourceEvent
from sagebox.services.families import Family
from sagebox.services.job_api_access import JobApiAccess
from sagebox.services.job_states import (
    ACTIVE,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    JobStates,
    internal,
    public,
    to_datetime,
)
from sagebox.services.leases import Leases
from sagebox.services.listing import list_resources
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord, ResourceRepository

log = logging.getLogger(__name__)


class JobFailure(Exception):
    """The job cannot go on; `reason` becomes its FailureReason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ending:
    """How a run ends its job: the terminal status and what goes with it."""

    status: str
    reason: str | None = None
    """The FailureReason of a Failed job."""
    secondary: str | None = None
    """The final secondary status when it is not the status itself (MaxRuntimeExceeded,
    MaxWaitTimeExceeded)."""
    members: Mapping[str, Any] = field(default_factory=dict)
    """Describe members set with the ending (ModelArtifacts, ExitMessage)."""


@dataclass(frozen=True)
class JobContext:
    """What every run of one job family works with; its service makes it once."""

    settings: Settings
    repository: ResourceRepository
    states: JobStates
    objects: ObjectStore
    executor: Executor
    api: JobApiAccess
    """How the job's own processes reach this server's API (services/job_api_access.py)."""


class JobRun(ABC):
    """One execution of a job; stop() and interrupt() may be called from any thread."""

    def __init__(self, name: str, document: dict[str, Any], context: JobContext) -> None:
        self.name = name
        self._document = document
        self._settings = context.settings
        self._repo = context.repository
        self._states = context.states
        self._objects = context.objects
        self._executor = context.executor
        self._grace = context.settings.stop_grace_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._executions: list[Execution] = []
        self.interrupted = False
        self.abandoned = False

    # -- control (any thread) -------------------------------------------------------------

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            executions = list(self._executions)
        for execution in executions:
            execution.stop()

    def interrupt(self) -> None:
        """Stops the job because the server is shutting down: it ends Failed, saying so."""
        self.interrupted = True
        self.stop()

    def abandon(self) -> None:
        """Stops the run because another server drives the job now: it writes no ending."""
        self.abandoned = True
        self.interrupt()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- running hosts ------------------------------------------------------------------------

    def launch(self, commands: Sequence[HostCommand], *, on_line: LineListener | None = None) -> Execution | None:
        """Starts the hosts unless the job is being stopped (then None); a program that cannot
        start raises OSError."""
        with self._lock:
            if self._stop.is_set():
                return None
            execution = self._executor.start(commands, on_line=on_line, grace_seconds=self._grace)
            self._executions.append(execution)
        return execution

    def finish_execution(self, execution: Execution, deadline: float | None = None) -> ExecutionOutcome:
        """Waits for an execution to end (stop, deadline or exit) and lets go of it."""
        try:
            return execution.wait(deadline)
        finally:
            with self._lock:
                if execution in self._executions:
                    self._executions.remove(execution)

    def run_hosts(
        self, commands: Sequence[HostCommand], *, deadline: float | None = None, on_line: LineListener | None = None
    ) -> ExecutionOutcome | None:
        """Starts the hosts and waits for their end; None when stopped before they started."""
        execution = self.launch(commands, on_line=on_line)
        if execution is None:
            return None
        return self.finish_execution(execution, deadline)

    @staticmethod
    def remember(record: ResourceRecord, *executions: Execution) -> None:
        """Keeps the executions' tokens in the record, so a restarted server ends them."""
        internal(record).setdefault("executions", []).extend(e.token for e in executions)

    def record_change(self, change: Callable[[ResourceRecord], None]) -> ResourceRecord:
        return self._repo.modify(self.name, change)

    # -- the whole run ------------------------------------------------------------------------

    def execute(self) -> None:
        """Runs the job to its end; the job ends exactly once, whatever happens."""
        try:
            ending = self.run()
        except JobFailure as exc:
            ending = Ending(FAILED, exc.reason)
        except Exception as exc:
            log.exception("%s %s failed inside sagebox", self._states.family.noun, self.name)
            ending = Ending(FAILED, f"InternalServerError: sagebox could not run the job: {exc!r}")
        finally:
            self.clean_up()
        self.conclude(ending)

    @abstractmethod
    def run(self) -> Ending:
        """Prepares, runs and finishes the job's work; raises JobFailure when it cannot."""

    def clean_up(self) -> None:  # noqa: B027 - optional: most runs leave nothing behind
        """Drops what the run no longer needs (downloaded inputs, scratch folders)."""

    def conclude(self, ending: Ending) -> None:
        if self.abandoned:
            return
        if ending.status != COMPLETED and self.interrupted:
            ending = Ending(FAILED, self._states.server_stopped_reason)

        def end(record: ResourceRecord) -> None:
            if self._states.is_terminal(record):
                return
            record.document.update(ending.members)
            now = time.time()
            if ending.status == FAILED:
                self._states.fail(record, ending.reason or "InternalServerError", now, secondary=ending.secondary)
            else:
                self._states.advance(record, ending.status, now, secondary=ending.secondary)

        self._repo.modify(self.name, end)

    def stopped_ending(self, secondary: str | None = None, members: Mapping[str, Any] | None = None) -> Ending:
        """The ending of a run that was stopped (or outlived its runtime limit)."""
        return Ending(STOPPED, secondary=secondary, members=members or {})


RunT = TypeVar("RunT", bound=JobRun)


class JobService(ABC, Generic[RunT]):
    """Create / Describe / List / Stop and the lifecycle of one job family."""

    family: ClassVar[Family]
    states: ClassVar[JobStates]

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        executor: Executor,
    ) -> None:
        self._settings = settings
        self._store = store
        self._repo = store.resources(self.family.kind)
        self._scheduler = scheduler
        self._executor = executor
        self.context = JobContext(
            settings, self._repo, self.states, objects, executor, JobApiAccess(settings, store)
        )
        self._runs: dict[str, RunT] = {}
        self._lock = threading.Lock()
        # Where changes are published; the platform gives every service the shared bus.
        self.events = EventBus()
        # Which jobs this server drives; the platform gives every service the server's leases.
        self.leases = Leases(None)

    # -- what a family says differently ----------------------------------------------------

    def not_found(self, name: str) -> ServiceError:
        return ValidationError(f"Could not find requested job with name {name}")

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            "Job name must be unique within an AWS account and region, and a job with this name "
            f"already exists ({arn})"
        )

    @abstractmethod
    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        """Validates a Create request (ValidationError) and builds the job's Describe document."""

    @abstractmethod
    def build_run(self, record: ResourceRecord) -> RunT:
        """The run of a job about to start (JobFailure when its record cannot run)."""

    # -- API ------------------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.create_job(request)

    def create_job(
        self, request: dict[str, Any], *, parent_arn: str | None = None, members: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Create<Kind>; `parent_arn` and `members` link a job that another job starts."""
        name = request[self.family.name_member]
        arn = self.family.arn(self._settings, name)
        if self._repo.get(name) is not None:
            raise self.already_exists(arn)
        now = time.time()
        document = self.new_document(request, arn, now)
        self.events.vet(self.family.kind, request)
        for key, value in (members or {}).items():
            if key == "_sagebox":  # bookkeeping joins what new_document noted
                document.setdefault("_sagebox", {}).update(value)
            else:
                document[key] = value
        moment = to_datetime(now)
        record = ResourceRecord(
            self.family.kind, name, arn, self.states.word(IN_PROGRESS), moment, moment, document, parent_arn
        )
        # The lease comes first: no other server may adopt the job between its record and its queueing.
        if not self.leases.claim(arn, self._lost_listener(name)):
            raise self.already_exists(arn)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            self.leases.release(arn)
            raise self.already_exists(arn) from exc
        except BaseException:
            self.leases.release(arn)
            raise
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self._publish(CREATED, record)
        self.launch(name)
        return {self.family.arn_member: arn}

    def record(self, name: str) -> ResourceRecord | None:
        return self._repo.get(name)

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise self.not_found(name)
        return record

    def describe(self, name: str) -> dict[str, Any]:
        return public(self.get(name).document)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        return list_resources(self._repo, request, self.family, summary=self.summary)

    def count(self) -> int:
        """How many jobs of this kind exist (the console's overview)."""
        return self._repo.count()

    def summary(self, record: ResourceRecord) -> dict[str, Any]:
        """One job as List<Kind>s shows it."""
        return {k: record.document[k] for k in self.family.summary_fields if k in record.document}

    def stop(self, name: str) -> dict[str, Any]:
        with self._lock:
            run = self._runs.get(name)

            def stopping(record: ResourceRecord) -> None:
                if self.states.state_of(record) != IN_PROGRESS:
                    raise ValidationError(
                        f"The {self.family.noun} {name} is in status {record.status} and cannot be stopped; "
                        f"only an {self.states.word(IN_PROGRESS)} job can be stopped."
                    )
                launched = internal(record).get("launched")
                self.states.advance(record, STOPPING if launched else STOPPED, time.time())

            try:
                record = self._repo.modify(name, stopping)
            except NotFound as exc:
                raise self.not_found(name) from exc
            if run is not None:
                run.stop()
        if self.states.state_of(record) == STOPPED:  # it had not been launched: it ends here
            self._publish(ENDED, record)
        return {}

    # -- execution ------------------------------------------------------------------------

    def launch(self, name: str) -> None:
        """Queues the job for a job slot."""
        self._scheduler.submit(f"{self.family.noun} {name}", lambda: self.execute(name))

    def execute(self, name: str) -> None:
        """Runs the job if this server still drives it, then lets go of its lease."""
        record = self._repo.get(name)
        if record is None or not self.leases.holds(record.arn):  # lost to another server while queued
            return
        try:
            self._execute(name)
        finally:
            self.leases.release(record.arn)

    def _execute(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None or self.states.state_of(record) != IN_PROGRESS:
            return
        try:
            run = self.build_run(record)
        except JobFailure as exc:
            self._end(name, FAILED, exc.reason)
            return
        except Exception as exc:
            log.exception("%s %s could not be prepared", self.family.noun, name)
            self._end(name, FAILED, f"InternalServerError: sagebox could not run the job: {exc!r}")
            return
        with self._lock:
            self._runs[name] = run
        launched = False
        try:
            launched = self._mark_launched(name)
            if launched:
                run.execute()
        finally:
            with self._lock:
                self._runs.pop(name, None)
            if launched and not self._settle(name, run):
                record = self._repo.get(name)
                if record is not None and self.states.is_terminal(record):
                    self._publish(ENDED, record)  # the run ended it

    def _settle(self, name: str, run: RunT) -> bool:
        """Ends a job its run left unfinished (a run must end its job; this is the net).
        A run interrupted by a shutdown is left to the next server's recovery."""
        record = self._repo.get(name)
        if record is None or self.states.is_terminal(record) or run.interrupted:
            return False
        log.error("%s %s was left %s by its run", self.family.noun, name, record.status)
        if run.stopping:
            return self._end(name, STOPPED, None)
        return self._end(name, FAILED, "InternalServerError: the job ended without a result.")

    def _mark_launched(self, name: str) -> bool:
        """Marks the job launched, in one transaction with the check that it may start."""
        allowed = stopped = False

        def launching(record: ResourceRecord) -> None:
            nonlocal allowed, stopped
            state = self.states.state_of(record)
            if state == STOPPING:  # stopped between queueing and now
                self.states.advance(record, STOPPED, time.time())
                stopped = True
            elif state == IN_PROGRESS:
                internal(record)["launched"] = True
                allowed = True

        record = self._repo.modify(name, launching)
        if stopped:
            self._publish(ENDED, record)
        return allowed

    def _end(self, name: str, status: str, reason: str | None) -> bool:
        """Ends a job that has not ended yet (False if it had); publishes its end."""
        ended = False

        def ending(record: ResourceRecord) -> None:
            nonlocal ended
            if self.states.is_terminal(record):
                return
            if status == FAILED:
                self.states.fail(record, reason or "InternalServerError", time.time())
            else:
                self.states.advance(record, status, time.time())
            ended = True

        record = self._repo.modify(name, ending)
        if ended:
            self._publish(ENDED, record)
        if self.states.is_terminal(record):
            self.leases.release(record.arn)
        return ended

    def _publish(self, change: str, record: ResourceRecord) -> None:
        self.events.publish(ResourceEvent(self.family.kind, record.name, record.arn, change, public(record.document)))

    def recover(self) -> None:
        """At start: adopts every active job no other server drives (embedded: all of them)."""
        self.adopt_orphans()

    def adopt_orphans(self) -> None:
        """Takes over the active jobs whose server is gone (their lease expired) and runs
        the recovery of a restarted server for each (`recover_record`)."""
        records = self._repo.list_by_status(self.states.words(ACTIVE))
        orphans = set(self.leases.orphans(record.arn for record in records))
        for record in records:
            if record.arn not in orphans or not self.leases.adopt(record.arn, self._lost_listener(record.name)):
                continue
            current = self._repo.get(record.name)  # as it is now that no one else drives it
            if current is None or self.states.is_terminal(current):
                self.leases.release(record.arn)
                continue
            if self.leases.shared:
                log.warning("%s %s: its server's lease expired; this server takes it over", self.family.noun, record.name)
            self.recover_record(current)

    def recover_record(self, record: ResourceRecord) -> None:
        """A job this server now drives after its previous server stopped: a queued one runs;
        a running one ends with whatever it left running (a stopping one Stopped, a running
        one Failed, saying why)."""
        state = self.states.state_of(record)
        if state == IN_PROGRESS and not internal(record).get("launched"):
            self.launch(record.name)
            return
        for token in internal(record).get("executions") or []:
            self._executor.end_leftovers(token)
        self._end(
            record.name,
            STOPPED if state == STOPPING else FAILED,
            self.states.server_stopped_reason,
        )

    def act_on_stops(self) -> None:
        """Stops the runs of jobs that another server moved to Stopping (Stop<Kind> may
        arrive at any server; the record is the desired state, its driver acts on it)."""
        with self._lock:
            runs = dict(self._runs)
        if not runs:
            return
        for record in self._repo.list_by_status([self.states.word(STOPPING)]):
            run = runs.get(record.name)
            if run is not None and not run.stopping:
                log.info("%s %s was stopped through another server; stopping it", self.family.noun, record.name)
                run.stop()

    def watch_leases(self) -> None:
        """What every server does every few seconds when servers share the store."""
        self.act_on_stops()
        self.adopt_orphans()

    def _lost_listener(self, name: str) -> Callable[[], None]:
        def lost() -> None:
            """Another server drives the job now: this one stops its run without ending it."""
            with self._lock:
                run = self._runs.get(name)
            if run is not None:
                run.abandon()

        return lost

    def shutdown(self) -> None:
        """Ends every running job as Failed: the server going away is not a user's stop."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.interrupt()
