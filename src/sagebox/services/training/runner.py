"""Runs one training job end to end: stage data, run the algorithm process, upload, record."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.runtime.host_group import HostGroup
from sagebox.runtime.logs import LogWriter, read_events
from sagebox.runtime.metrics import MetricExtractor, MetricObservation
from sagebox.runtime.ports import rendezvous_port
from sagebox.runtime.process import ExitCause, JobProcess
from sagebox.runtime.script_mode import ScriptInvocation, rendezvous_environment
from sagebox.runtime.venv_cache import VirtualEnvCache
from sagebox.runtime.workspace import TrainingWorkspace, host_workspaces
from sagebox.services.training import lifecycle
from sagebox.services.training.entrypoint_setup import entrypoint_command
from sagebox.services.training.requests import TrainingPlan
from sagebox.services.training.script_setup import (
    ScriptSetupError,
    code_dir,
    prepare_python,
    script_failure_reason,
    stage_source,
)
from sagebox.services.training.staging import (
    ChannelDataError,
    stage_channel_on_hosts,
    upload_merged_trees,
)
from sagebox.store import ResourceRepository

log = logging.getLogger(__name__)

METRIC_FLUSH_SECONDS = 1.0
SERVER_STOPPED_REASON = (
    "InternalServerError: the sagebox server stopped while this training job was running; "
    "the job was interrupted. Create a new job to run it again."
)
MetricListener = Callable[[str, MetricObservation], None]
HostCommand = tuple[list[str], Path, dict[str, str]]


class TrainingRun:
    """One execution of a training job; stop() may be called from any thread.

    A script-mode job with ResourceConfig.InstanceCount N > 1 runs as SageMaker runs it on
    N instances: one process per host algo-1..algo-N, each with its own /opt/ml tree
    (hosts/<host>/ in the job folder), its own log stream and its own share of
    ShardedByS3Key channels, meeting through torch.distributed's env:// variables. It
    completes when every host exits 0; the first host to fail stops the others and its
    error, naming the host, is the FailureReason. The model and output data are what
    SageMaker documents for several containers: every host's model/ (and output/data/)
    aggregated into one model.tar.gz (output.tar.gz); hosts should avoid clashing names,
    and on a clash the lower host's file (algo-1 first) is kept. MetricDefinitions are
    matched against every host's log lines; each metric's final value is the last one
    logged by any host.
    """

    def __init__(
        self,
        name: str,
        plan: TrainingPlan,
        *,
        settings: Settings,
        repository: ResourceRepository,
        objects: ObjectStore,
        metric_listener: MetricListener | None = None,
    ) -> None:
        self.name = name
        self._plan = plan
        self._settings = settings
        self._repo = repository
        self._objects = objects
        self._metric_listener = metric_listener
        self._stop = threading.Event()
        self._interrupted = False
        self._process: JobProcess | None = None
        self._group: HostGroup | None = None
        self._failed_host: str | None = None
        self._lock = threading.Lock()
        self._metrics: dict[str, MetricObservation] = {}
        self._metrics_lock = threading.Lock()
        self._metrics_flushed_at = 0.0
        self.workspaces = host_workspaces(settings.jobs_dir / "training" / name, plan.instance_count)
        self.workspace = self.workspaces[0]
        self._argv: list[str] = []
        self._host_argv: dict[str, list[str]] = {}

    def interrupt(self) -> None:
        """Stops the job because the server is shutting down; it ends Failed, saying so."""
        self._interrupted = True
        self.stop()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            if self._process is not None:
                self._process.stop()
            if self._group is not None:
                self._group.stop()

    # -- the whole run -------------------------------------------------------------

    def execute(self) -> None:
        record = self._repo.get(self.name)
        if record is None or record.status != "InProgress":
            return
        document = record.document
        try:
            self._prepare(document)
            if self._stopped_before_training():
                return
            outcome = self._train(document)
        except (ChannelDataError, ScriptSetupError) as exc:
            self._finish_failed(str(exc))
            return
        except Exception as exc:
            log.exception("training job %s failed inside sagebox", self.name)
            self._finish_failed(f"InternalServerError: sagebox could not run the job: {exc!r}")
            return
        finally:
            for workspace in self.workspaces:
                workspace.clear_input_data()
        self._conclude(outcome)

    def _prepare(self, document: dict[str, Any]) -> None:
        hyperparameters = document.get("HyperParameters", {})
        for workspace in self.workspaces:
            workspace.create(hyperparameters, self._plan.channels)

        def downloading(record: Any) -> None:
            now = time.time()
            lifecycle.internal(record)["launched"] = True
            record.document["TrainingStartTime"] = now
            lifecycle.advance(record, "Downloading", now)

        self._repo.modify(self.name, downloading)
        for channel in document.get("InputDataConfig", []):
            if self._stop.is_set():
                return
            folders = [workspace.channel_dir(channel["ChannelName"]) for workspace in self.workspaces]
            stage_channel_on_hosts(self._objects, channel, folders)
        script = self._plan.script
        if script is None or self._stop.is_set():
            return
        leader = code_dir(self.workspace)
        stage_source(self._objects, script, leader)
        for workspace in self.workspaces[1:]:  # every host gets its own copy, downloaded once
            shutil.copytree(leader, code_dir(workspace), dirs_exist_ok=True)

    def _stopped_before_training(self) -> bool:
        if not self._stop.is_set():
            return False
        self._finish_stopped("Stopped")
        return True

    def _train(self, document: dict[str, Any]) -> tuple[int, ExitCause]:
        if len(self.workspaces) > 1:
            return self._train_on_hosts(document)
        spec = document["AlgorithmSpecification"]
        extractor = MetricExtractor(spec.get("MetricDefinitions") or [], self._observe)
        logs = LogWriter(self.workspace.log_file)
        try:
            if self._plan.entrypoint is not None:
                self._argv, cwd, env = entrypoint_command(
                    self._plan.entrypoint, self.workspace, document, self._plan.channels
                )
            elif self._plan.script is None:
                cwd, env = self._builtin_command(document)
            else:
                cwd, env = self._script_command(document, logs)
        except ScriptSetupError:
            logs.close()
            if self._stop.is_set():
                return (0, ExitCause.STOPPED)
            raise
        except BaseException:
            logs.close()
            raise
        process = JobProcess(
            self._argv,
            cwd=cwd,
            env=env,
            log=logs,
            on_line=extractor.feed,
            grace_seconds=self._settings.stop_grace_seconds,
        )
        with self._lock:
            if self._stop.is_set():
                logs.close()
                return (0, ExitCause.STOPPED)
            started = process.start()
            self._process = process
        def training(record: Any) -> None:
            lifecycle.internal(record)["pid"] = process.pid
            lifecycle.advance(record, "Training", started)

        self._repo.modify(self.name, training)
        max_runtime = document["StoppingCondition"]["MaxRuntimeInSeconds"]
        begun = document.get("TrainingStartTime") or started
        outcome = process.wait(deadline=begun + max_runtime, started_at=started)
        logs.close()
        self._flush_metrics(force=True)
        return outcome.exit_code, outcome.cause

    def _builtin_command(self, document: dict[str, Any]) -> tuple[Path, dict[str, str]]:
        algorithm = self._plan.algorithm
        if algorithm is None:
            raise RuntimeError(f"training job {self.name} has neither an algorithm nor a script")
        self._argv = [sys.executable, "-m", algorithm.entry_module]
        env = self.workspace.environment(
            job_name=self.name,
            job_arn=document["TrainingJobArn"],
            hyperparameters=document.get("HyperParameters", {}),
            channels=self._plan.channels,
            user_environment=document.get("Environment"),
        )
        return self.workspace.root, env

    def _script_command(self, document: dict[str, Any], logs: LogWriter) -> tuple[Path, dict[str, str]]:
        """Script mode: install requirements, check the framework, then the toolkit's command."""
        script = self._plan.script
        if script is None:
            raise RuntimeError(f"training job {self.name} is not a script-mode job")
        source = code_dir(self.workspace)
        venvs = VirtualEnvCache(self._settings.venvs_dir)
        python = prepare_python(script, source, venvs, lambda argv: self._run_setup(argv, source, logs))
        invocation = ScriptInvocation(
            program=script.program,
            code_dir=source,
            hyperparameters=document.get("HyperParameters", {}),
            submit_directory=script.submit_directory,
        )
        self._argv = invocation.argv(python)
        env = invocation.environment(
            self.workspace,
            job_name=self.name,
            job_arn=document["TrainingJobArn"],
            channels=self._plan.channels,
            user_environment=document.get("Environment"),
            master_port=rendezvous_port(),
        )
        return source, env

    # -- several hosts -------------------------------------------------------------

    def _train_on_hosts(self, document: dict[str, Any]) -> tuple[int, ExitCause]:
        """User code on several hosts: one process per host, started together, ended together."""
        spec = document["AlgorithmSpecification"]
        extractor = MetricExtractor(spec.get("MetricDefinitions") or [], self._observe)
        logs = {workspace.host: LogWriter(workspace.log_file) for workspace in self.workspaces}
        try:
            try:
                commands = self._host_commands(document, logs[self.workspace.host])
            except ScriptSetupError:
                if self._stop.is_set():
                    return (0, ExitCause.STOPPED)
                raise
            group = HostGroup(
                {
                    host: JobProcess(
                        argv, cwd=cwd, env=env, log=logs[host], on_line=extractor.feed,
                        grace_seconds=self._settings.stop_grace_seconds,
                    )
                    for host, (argv, cwd, env) in commands.items()
                }
            )
            with self._lock:
                if self._stop.is_set():
                    return (0, ExitCause.STOPPED)
                started = group.start()
                self._group = group

            def training(record: Any) -> None:
                lifecycle.internal(record)["pid"] = group.pids[0]
                lifecycle.internal(record)["pids"] = group.pids
                lifecycle.advance(record, "Training", started)

            self._repo.modify(self.name, training)
            begun = document.get("TrainingStartTime") or started
            outcome = group.wait(deadline=begun + document["StoppingCondition"]["MaxRuntimeInSeconds"])
        finally:
            for log_writer in logs.values():
                log_writer.close()
        self._failed_host = outcome.failed_host
        self._flush_metrics(force=True)
        return outcome.exit_code, outcome.cause

    def _host_commands(self, document: dict[str, Any], logs: LogWriter) -> dict[str, HostCommand]:
        """Each host's argv, folder and environment; requirements install once, logged by algo-1."""
        if self._plan.entrypoint is not None:
            return self._entrypoint_host_commands(document)
        script = self._plan.script
        if script is None:
            raise RuntimeError(f"training job {self.name} runs on several hosts but runs no user code")
        leader_source = code_dir(self.workspace)
        venvs = VirtualEnvCache(self._settings.venvs_dir)
        python = prepare_python(
            script, leader_source, venvs, lambda argv: self._run_setup(argv, leader_source, logs)
        )
        port = rendezvous_port()
        commands: dict[str, HostCommand] = {}
        for workspace in self.workspaces:
            source = code_dir(workspace)
            invocation = ScriptInvocation(
                program=script.program,
                code_dir=source,
                hyperparameters=document.get("HyperParameters", {}),
                submit_directory=script.submit_directory,
            )
            env = invocation.environment(
                workspace,
                job_name=self.name,
                job_arn=document["TrainingJobArn"],
                channels=self._plan.channels,
                user_environment=document.get("Environment"),
                master_port=port,
            )
            commands[workspace.host] = (invocation.argv(python), source, env)
            self._host_argv[workspace.host] = commands[workspace.host][0]
        self._argv = self._host_argv[self.workspace.host]
        return commands

    def _entrypoint_host_commands(self, document: dict[str, Any]) -> dict[str, HostCommand]:
        """Every host runs the ContainerEntrypoint in its own /opt/ml tree, with the rendezvous variables."""
        entrypoint = self._plan.entrypoint
        if entrypoint is None:
            raise RuntimeError(f"training job {self.name} has no ContainerEntrypoint")
        port = rendezvous_port()
        commands: dict[str, HostCommand] = {}
        for workspace in self.workspaces:
            argv, cwd, env = entrypoint_command(entrypoint, workspace, document, self._plan.channels)
            env.update(rendezvous_environment(workspace, port))
            env.update(document.get("Environment") or {})  # the job's own variables win
            commands[workspace.host] = (argv, cwd, env)
            self._host_argv[workspace.host] = argv
        self._argv = self._host_argv[self.workspace.host]
        return commands

    def _run_setup(self, argv: list[str], cwd: Path, logs: LogWriter) -> tuple[int, list[str]]:
        """Runs a setup command (pip) as a stoppable process logging to the job's log."""
        lines: list[str] = []
        logs.write(f"sagebox: running {' '.join(argv)}")
        process = JobProcess(
            argv,
            cwd=cwd,
            env=dict(os.environ, PIP_NO_INPUT="1"),
            log=logs,
            on_line=lambda line, _at: lines.append(line),
            grace_seconds=self._settings.stop_grace_seconds,
        )
        with self._lock:
            if self._stop.is_set():
                return (1, ["ERROR: the training job was stopped"])
            process.start()
            self._process = process
        outcome = process.wait()
        with self._lock:
            self._process = None
        return outcome.exit_code, lines

    # -- metrics -------------------------------------------------------------------

    def _observe(self, observation: MetricObservation) -> None:
        """Called from each host's log reader; one observation at a time."""
        with self._metrics_lock:
            self._metrics[observation.name] = observation
            if self._metric_listener is not None:
                self._metric_listener(self.name, observation)
            self._flush_metrics(force=False)

    def _flush_metrics(self, force: bool) -> None:
        now = time.time()
        if not self._metrics or (not force and now - self._metrics_flushed_at < METRIC_FLUSH_SECONDS):
            return
        self._metrics_flushed_at = now
        final = [
            {"MetricName": m.name, "Value": m.value, "Timestamp": m.timestamp}
            for m in sorted(self._metrics.values(), key=lambda m: m.name)
        ]

        def record_metrics(record: Any) -> None:
            record.document["FinalMetricDataList"] = final

        self._repo.modify(self.name, record_metrics)

    # -- endings -------------------------------------------------------------------

    def _conclude(self, outcome: tuple[int, ExitCause]) -> None:
        exit_code, cause = outcome
        if cause is ExitCause.STOPPED:
            self._finish_stopped("Stopped")
        elif cause is ExitCause.TIMED_OUT:
            self._finish_stopped("MaxRuntimeExceeded")
        elif exit_code == 0:
            self._repo.modify(self.name, lambda r: lifecycle.advance(r, "Uploading", time.time()))
            try:
                artifacts = self._upload_artifacts()
            except ObjectStoreError as exc:
                self._finish_failed(f"ClientError: uploading the model artifacts failed: {exc.code}: {exc.message}")
                return

            def completed(record: Any) -> None:
                record.document["ModelArtifacts"] = {"S3ModelArtifacts": artifacts}
                lifecycle.advance(record, "Completed", time.time())

            self._repo.modify(self.name, completed)
        else:
            self._finish_failed(self._failure_reason(exit_code))

    def _finish_failed(self, reason: str) -> None:
        self._repo.modify(self.name, lambda r: lifecycle.fail(r, reason, time.time()))

    def _finish_stopped(self, secondary: str) -> None:
        """A stopped job keeps what the algorithm saved, as SageMaker does."""
        if self._interrupted:
            self._finish_failed(SERVER_STOPPED_REASON)
            return
        artifacts = None
        if any(any(w.model_dir.iterdir()) for w in self.workspaces if w.model_dir.exists()):
            try:
                artifacts = self._upload_artifacts()
            except ObjectStoreError:
                log.warning("could not upload the artifacts of stopped job %s", self.name)

        def stopped(record: Any) -> None:
            if artifacts:
                record.document["ModelArtifacts"] = {"S3ModelArtifacts": artifacts}
            lifecycle.advance(record, secondary, time.time())

        self._repo.modify(self.name, stopped)

    def _upload_artifacts(self) -> str:
        record = self._repo.get(self.name)
        output = record.document["OutputDataConfig"] if record else {}
        base = f"{output['S3OutputPath'].rstrip('/')}/{self.name}/output"
        models = [w.model_dir for w in self.workspaces]
        data = [w.output_data_dir for w in self.workspaces]
        if output.get("CompressionType") == "NONE":
            upload_merged_trees(self._objects, models, f"{base}/model", compress=False)
            upload_merged_trees(self._objects, data, f"{base}/data", compress=False)
            return f"{base}/model/"
        upload_merged_trees(self._objects, models, f"{base}/model.tar.gz", compress=True)
        upload_merged_trees(self._objects, data, f"{base}/output.tar.gz", compress=True)
        return f"{base}/model.tar.gz"

    def _failure_reason(self, exit_code: int) -> str:
        """The FailureReason of a process that exited non-zero; on several hosts, the failed one's, named."""
        if len(self.workspaces) == 1:
            return self._host_failure_reason(self.workspace, exit_code, self._argv)[:1024]
        workspace = next((w for w in self.workspaces if w.host == self._failed_host), self.workspace)
        reason = self._host_failure_reason(workspace, exit_code, self._host_argv.get(workspace.host, self._argv))
        if reason.startswith("AlgorithmError: "):
            return reason.replace("AlgorithmError: ", f"AlgorithmError: Host {workspace.host}: ", 1)[:1024]
        return f"Host {workspace.host}: {reason}"[:1024]

    def _host_failure_reason(self, workspace: TrainingWorkspace, exit_code: int, argv: list[str]) -> str:
        """What one host's process left: the script's error, its failure file, or its last log lines."""
        if self._plan.script is not None:
            return script_failure_reason(workspace, exit_code, argv)
        failure = workspace.failure_file
        if failure.exists():
            text = failure.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return text
        tail = [str(e["message"]) for e in read_events(workspace.log_file)[-5:]]
        detail = " | ".join(tail)
        return f"AlgorithmError: the training process exited with code {exit_code}. Last log lines: {detail}"
