"""Runs one processing job end to end: download inputs, run the command, upload outputs, record."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.logs import LogWriter, read_events
from sagebox.runtime.process import ExitCause, JobProcess
from sagebox.runtime.venv_cache import RequirementsInstallError
from sagebox.services.processing import states
from sagebox.services.processing.command import prepare_command
from sagebox.services.processing.inputs import InputDataError, stage_input
from sagebox.services.processing.outputs import OutputFolder, OutputUploader, OutputUploadError
from sagebox.services.processing.requests import ProcessingPlan
from sagebox.services.processing.workspace import ProcessingWorkspace, job_root
from sagebox.store import ResourceRepository

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 1024
SERVER_STOPPED_REASON = (
    "InternalServerError: the sagebox server stopped while this processing job was running; "
    "the job was interrupted. Create a new job to run it again."
)


class JobFailure(Exception):
    """The job cannot go on; the message becomes the FailureReason."""


class ProcessingRun:
    """One execution of a processing job; stop() may be called from any thread."""

    def __init__(
        self,
        name: str,
        plan: ProcessingPlan,
        *,
        settings: Settings,
        repository: ResourceRepository,
        objects: ObjectStore,
        upload_interval: float = 1.0,
    ) -> None:
        self.name = name
        self._plan = plan
        self._settings = settings
        self._repo = repository
        self._objects = objects
        self._stop = threading.Event()
        self._interrupted = False
        self._process: JobProcess | None = None
        self._lock = threading.Lock()
        self.workspace = ProcessingWorkspace(job_root(settings.jobs_dir, name))
        folders = [
            OutputFolder(spec, self.workspace.local(spec.local_path))
            for spec in plan.outputs
            if not spec.app_managed and spec.local_path is not None and spec.s3_uri is not None
        ]
        self._uploader = OutputUploader(objects, folders, interval=upload_interval)

    def interrupt(self) -> None:
        """Stops the job because the server is shutting down; it ends Failed, saying so."""
        self._interrupted = True
        self.stop()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            if self._process is not None:
                self._process.stop()

    # -- the whole run -------------------------------------------------------------

    def execute(self) -> None:
        record = self._repo.get(self.name)
        if record is None or record.status != "InProgress":
            return
        document = record.document
        try:
            started = self._prepare(document)
            if self._stop.is_set():
                self._conclude(0, ExitCause.STOPPED)
                return
            exit_code, cause = self._run(document, started)
        except (InputDataError, JobFailure) as exc:
            self._finish("Failed", reason=str(exc))
            return
        except Exception as exc:
            log.exception("processing job %s failed inside sagebox", self.name)
            self._finish("Failed", reason=f"InternalServerError: sagebox could not run the job: {exc!r}")
            return
        finally:
            self.workspace.clear_inputs(self._plan)
        self._conclude(exit_code, cause)

    def _prepare(self, document: dict[str, Any]) -> float:
        self.workspace.create(document, self._plan)
        started = time.time()

        def starting(record: Any) -> None:
            states.internal(record)["launched"] = True
            record.document["ProcessingStartTime"] = started
            states.touch(record, started)

        self._repo.modify(self.name, starting)
        for spec in self._plan.inputs:
            if self._stop.is_set():
                break
            if spec.app_managed or spec.local_path is None:
                continue
            stage_input(self._objects, spec, self.workspace.local(spec.local_path), self._stop.is_set)
        return started

    def _run(self, document: dict[str, Any], started: float) -> tuple[int, ExitCause]:
        env = self.workspace.environment(
            job_name=self.name,
            job_arn=document["ProcessingJobArn"],
            region=self._settings.region,
            user_environment=document.get("Environment"),
        )
        try:
            argv = prepare_command(self._plan.command, self.workspace, env)
        except RequirementsInstallError as exc:
            raise JobFailure(f"InternalServerError: sagebox could not prepare the job's Python: {exc}") from exc
        logs = LogWriter(self.workspace.log_file)
        process = JobProcess(
            argv,
            cwd=self.workspace.root,
            env=env,
            log=logs,
            grace_seconds=self._settings.stop_grace_seconds,
        )
        try:
            with self._lock:
                if self._stop.is_set():
                    return (0, ExitCause.STOPPED)
                try:
                    process.start()
                except OSError as exc:
                    raise JobFailure(
                        f"ClientError: the ContainerEntrypoint program '{self._plan.command[0]}' could not "
                        f"be started: {exc.strerror or exc}"
                    ) from exc
                self._process = process
            self._repo.modify(self.name, lambda r: states.internal(r).update(pid=process.pid))
            self._uploader.start()
            outcome = process.wait(deadline=started + self._plan.max_runtime_seconds, started_at=started)
            return outcome.exit_code, outcome.cause
        finally:
            self._uploader.stop()
            logs.close()

    # -- endings -------------------------------------------------------------------

    def _conclude(self, exit_code: int, cause: ExitCause) -> None:
        if self._interrupted:
            self._finish("Failed", reason=SERVER_STOPPED_REASON)
            return
        message, message_problem = self._exit_message()
        try:
            self._uploader.upload(self._uploader.continuous)
            if cause is ExitCause.EXITED and exit_code == 0 and message_problem is None:
                self._uploader.upload(self._uploader.end_of_job)
        except OutputUploadError as exc:
            self._finish("Failed", reason=str(exc), message=message)
            return
        if cause is not ExitCause.EXITED:  # a StopProcessingJob, or MaxRuntimeInSeconds reached
            self._finish("Stopped", message=message)
        elif message_problem is not None:
            self._finish("Failed", reason=message_problem)
        elif exit_code == 0:
            self._finish("Completed", message=message)
        else:
            self._finish("Failed", reason=self._failure_reason(exit_code, message), message=message)

    def _finish(self, status: str, *, reason: str | None = None, message: str | None = None) -> None:
        def finished(record: Any) -> None:
            now = time.time()
            if message:
                record.document["ExitMessage"] = message
            if status == "Failed":
                states.fail(record, reason or "InternalServerError", now)
            else:
                states.advance(record, status, now)

        self._repo.modify(self.name, finished)

    def _exit_message(self) -> tuple[str | None, str | None]:
        """The first KB of /opt/ml/output/message, or why it is unusable (not UTF-8)."""
        path = self.workspace.message_file
        if not path.is_file():
            return None, None
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, (
                "ClientError: /opt/ml/output/message must hold UTF-8 text; the file the job wrote is not "
                "valid UTF-8."
            )
        return (text[:MESSAGE_LIMIT] or None), None

    def _failure_reason(self, exit_code: int, message: str | None) -> str:
        if message and message.strip():
            return f"AlgorithmError: {message.strip()}"[:MESSAGE_LIMIT]
        tail = [str(e["message"]) for e in read_events(self.workspace.log_file)[-5:]]
        detail = " | ".join(tail) if tail else "(the process wrote no output)"
        return (
            f"AlgorithmError: the processing container exited with code {exit_code}. "
            f"Last log lines: {detail}"
        )[:MESSAGE_LIMIT]
