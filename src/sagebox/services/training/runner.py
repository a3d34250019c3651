"""Runs one training job end to end: stage data, run the hosts, upload, record.

A script-mode or ContainerEntrypoint job with ResourceConfig.InstanceCount N > 1 runs as
SageMaker runs it on N instances: one process per host algo-1..algo-N, each with its own
/opt/ml tree (hosts/<host>/ in the job folder), its own log stream and its own share of
ShardedByS3Key channels, meeting through torch.distributed's env:// variables. It
completes when every host exits 0; the first host to fail stops the others and its
error, naming the host, is the FailureReason. The model and output data are what
SageMaker documents for several containers: every host's model/ (and output/data/)
aggregated into one model.tar.gz (output.tar.gz); on a name clash the lower host's file
(algo-1 first) is kept. MetricDefinitions are matched against every host's log lines;
each metric's final value is the last one logged by any host.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sagebox.objects import ObjectStoreError
from sagebox.runtime.executor import Execution, ExecutionOutcome, ExitCause, HostCommand
from sagebox.runtime.logs import append_event, read_events
from sagebox.runtime.metrics import MetricExtractor, MetricObservation
from sagebox.runtime.node_data import NodeData
from sagebox.runtime.training_workspace import TrainingWorkspace, host_workspaces
from sagebox.runtime.venv_cache import VirtualEnvCache
from sagebox.services.job_api_access import with_api_access
from sagebox.services.job_states import internal
from sagebox.services.jobs import Ending, JobContext, JobFailure, JobRun
from sagebox.services.training.checkpoints import CheckpointSync
from sagebox.services.training.commands import host_commands
from sagebox.services.training.data_plane import artifact_uploads, node_data, nodes_move_data
from sagebox.services.training.lifecycle import (
    SPOT,
    STATES,
    hosts_ended,
    hosts_started,
    run_seconds,
)
from sagebox.services.training.requests import TrainingPlan, checkpoint_folder
from sagebox.services.training.script_setup import (
    ScriptSetupError,
    code_dir,
    script_failure_reason,
    stage_source,
)
from sagebox.services.training.staging import stage_channel_on_hosts, upload_merged_trees
from sagebox.store import ResourceRecord

log = logging.getLogger(__name__)

METRIC_FLUSH_SECONDS = 1.0
MetricListener = Callable[[str, MetricObservation], None]


class TrainingRun(JobRun):
    """One execution of a training job; stop() may be called from any thread."""

    def __init__(
        self,
        name: str,
        document: dict[str, Any],
        context: JobContext,
        plan: TrainingPlan,
        metric_listener: MetricListener | None = None,
    ) -> None:
        super().__init__(name, document, context)
        self._plan = plan
        self._context_api = context.api
        self._metric_listener = metric_listener
        self._metrics: dict[str, MetricObservation] = {}
        self._metrics_lock = threading.Lock()
        self._metrics_flushed_at = 0.0
        checkpoint = document.get("CheckpointConfig")
        folder = checkpoint_folder(checkpoint) if checkpoint else "checkpoints"
        self.workspaces = host_workspaces(self._settings.jobs_dir / "training" / name, plan.instance_count, folder)
        self.workspace = self.workspaces[0]
        self._argv: dict[str, list[str]] = {}
        self._checkpoints = (
            CheckpointSync(context.objects, checkpoint["S3Uri"], [w.checkpoint_dir for w in self.workspaces])
            if checkpoint
            else None
        )
        self._spot = bool(document.get("EnableManagedSpotTraining"))
        # On Ray with an S3 server the nodes move the data (services/training/data_plane.py).
        self._on_nodes = nodes_move_data(context.objects, context.executor)
        self._node_data: list[NodeData] = []
        self._execution: Execution | None = None  # the last attempt's, which may upload
        self._deadline_is_wait = False  # whether the running attempt ends at MaxWaitTimeInSeconds

    # -- the whole run -------------------------------------------------------------------

    def run(self) -> Ending:
        self._prepare()
        while True:
            if self.stopping:
                return self._stopped("Stopped")
            if self._checkpoints is not None and not self._on_nodes:
                self._checkpoints.restore()
            try:
                commands = self._commands()
            except ScriptSetupError:
                if self.stopping:
                    return self._stopped("Stopped")
                raise
            outcome = self._train(commands)
            if outcome is None or outcome.cause is ExitCause.STOPPED:
                return self._stopped("Stopped")
            if outcome.cause is ExitCause.TIMED_OUT:
                if self._deadline_is_wait:
                    return self._wait_exceeded_ending()
                return self._stopped("MaxRuntimeExceeded")
            if outcome.lost_hosts and outcome.exit_code != 0:
                if not self._resumable():
                    return Ending("Failed", self._lost_reason(outcome))
                self._interrupted(outcome)
                if self._wait_exceeded():
                    return self._wait_exceeded_ending()
                self._prepare(restart=True)
                continue
            break
        if outcome.exit_code != 0:
            return Ending("Failed", self._failure_reason(outcome))
        self.record_change(lambda r: STATES.enter(r, "Uploading", time.time()))
        try:
            artifacts = self._upload_artifacts()
        except ObjectStoreError as exc:
            return Ending("Failed", f"ClientError: uploading the model artifacts failed: {exc.code}: {exc.message}")
        return Ending("Completed", members={"ModelArtifacts": {"S3ModelArtifacts": artifacts}})

    def _commands(self) -> list[HostCommand]:
        commands = host_commands(
            self._plan, self.workspaces, self._document,
            venvs=VirtualEnvCache(self._settings.venvs_dir), run_setup=self._run_setup,
        )
        # The job's own AWS calls reach this server, as a job's role reaches AWS.
        api, own = self._context_api.environment(), self._document.get("Environment")
        synced = (self.workspace.checkpoint_folder,) if self._checkpoints is not None else ()
        commands = [replace(c, env=with_api_access(c.env, api, own), synced=synced) for c in commands]
        if self._on_nodes:  # each node stages, syncs and uploads for its host itself
            commands = [replace(c, synced=(), node_data=d) for c, d in zip(commands, self._node_data, strict=True)]
        self._argv = {command.host: list(command.argv) for command in commands}
        return commands

    # -- managed spot training -------------------------------------------------------------

    def _resumable(self) -> bool:
        """A job whose hosts were lost starts again from its last checkpoint when it is a
        managed spot training job with a CheckpointConfig."""
        return self._spot and self._checkpoints is not None and not self.stopping

    def _wait_deadline(self) -> float | None:
        """When a managed spot training job must have completed: CreationTime + MaxWaitTimeInSeconds."""
        wait = self._document["StoppingCondition"].get("MaxWaitTimeInSeconds")
        if not self._spot or wait is None:
            return None
        return float(self._document["CreationTime"]) + float(wait)

    def _wait_exceeded(self) -> bool:
        deadline = self._wait_deadline()
        return deadline is not None and time.time() >= deadline - 0.5

    def _wait_exceeded_ending(self) -> Ending:
        wait = self._document["StoppingCondition"]["MaxWaitTimeInSeconds"]
        return Ending(
            "Failed",
            f"MaxWaitTimeExceeded: the managed spot training job did not complete within its "
            f"MaxWaitTimeInSeconds ({wait} s).",
            secondary="MaxWaitTimeExceeded",
        )

    def _interrupted(self, outcome: ExecutionOutcome) -> None:
        """Records the interruption (Interrupted, then Starting again) before the next attempt."""
        lost = ", ".join(outcome.lost_hosts)
        for workspace in self.workspaces:
            append_event(
                workspace.log_file,
                f"sagebox: managed spot training: host(s) {lost} lost; restarting the job from its last checkpoint",
            )

        def interrupted(record: ResourceRecord) -> None:
            now = time.time()
            hosts_ended(internal(record).setdefault(SPOT, {}), outcome.ended_at or now)
            STATES.enter(record, "Interrupted", now, f"Job interrupted: host(s) {lost} lost with their node.")
            STATES.enter(record, "Starting", now, "Restarting the job from its last checkpoint")

        self._document = self.record_change(interrupted).document

    def _lost_reason(self, outcome: ExecutionOutcome) -> str:
        """The FailureReason of a job whose host was lost and that cannot resume."""
        host = outcome.lost_hosts[0]
        workspace = next((w for w in self.workspaces if w.host == host), self.workspace)
        events = read_events(workspace.log_file)
        detail = str(events[-1]["message"]) if events else f"sagebox: host {host} was lost"
        remedy = (
            "Enable managed spot training (EnableManagedSpotTraining with MaxWaitTimeInSeconds) and a "
            "CheckpointConfig to have such a job restarted from its last checkpoint."
            if not self._resumable() and not self.stopping
            else ""
        )
        return f"InternalServerError: Host {host}: the instance was lost while the job ran ({detail}). {remedy}".strip()[:1024]

    def clean_up(self) -> None:
        if self._execution is not None:
            self._execution.release()
        for workspace in self.workspaces:
            workspace.clear_input_data()

    def _prepare(self, restart: bool = False) -> None:
        """Lays out every host's /opt/ml and stages its data; again after an interruption."""
        hyperparameters = self._document.get("HyperParameters", {})
        for workspace in self.workspaces:
            workspace.create(hyperparameters, self._plan.channels)

        def downloading(record: ResourceRecord) -> None:
            now = time.time()
            if not restart:
                record.document["TrainingStartTime"] = now
            STATES.enter(record, "Downloading", now)

        record = self.record_change(downloading)
        self._document = record.document
        if self._on_nodes:  # what each host's node downloads; nothing is read here
            self._node_data = node_data(self._objects, self._document, self.name, self.workspaces)
        for channel in self._document.get("InputDataConfig", []) if not self._on_nodes else ():
            if self.stopping:
                return
            folders = [workspace.channel_dir(channel["ChannelName"]) for workspace in self.workspaces]
            stage_channel_on_hosts(self._objects, channel, folders)
        script = self._plan.script
        if script is None or self.stopping:
            return
        leader = code_dir(self.workspace)
        stage_source(self._objects, script, leader)
        for workspace in self.workspaces[1:]:  # every host gets its own copy, downloaded once
            shutil.copytree(leader, code_dir(workspace), dirs_exist_ok=True)

    def _train(self, commands: list[HostCommand]) -> ExecutionOutcome | None:
        definitions = self._document["AlgorithmSpecification"].get("MetricDefinitions") or []
        extractor = MetricExtractor(definitions, self._observe)
        try:
            execution = self.launch(commands, on_line=extractor.feed)
        except OSError as exc:
            if str(exc).startswith("ClientError: "):  # a node could not stage (NodeDataError)
                raise JobFailure(str(exc)) from exc
            raise
        if execution is None:
            return None
        self._execution = execution

        def training(record: ResourceRecord) -> None:
            self.remember(record, execution)
            if self._spot:
                hosts_started(internal(record).setdefault(SPOT, {}), execution.started_at)
            STATES.enter(record, "Training", execution.started_at)

        self._document = self.record_change(training).document
        checkpoints = self._checkpoints if not self._on_nodes else None
        if checkpoints is not None:
            checkpoints.start()
        try:
            outcome = self.finish_execution(execution, self._deadline(execution.started_at))
        finally:
            if checkpoints is not None:
                checkpoints.stop()  # and what the hosts left at their end
        self._flush_metrics(force=True)
        return outcome

    def _deadline(self, started: float) -> float:
        """MaxRuntimeInSeconds from TrainingStartTime; for a managed spot training job, the
        runtime left after earlier attempts, and never past its MaxWaitTimeInSeconds."""
        limit = float(self._document["StoppingCondition"]["MaxRuntimeInSeconds"])
        if not self._spot:
            return float(self._document.get("TrainingStartTime") or started) + limit
        ran = run_seconds(self._document.get("_sagebox", {}).get(SPOT) or {}, started)
        deadline = started + max(0.0, limit - ran)
        wait = self._wait_deadline()
        self._deadline_is_wait = wait is not None and wait < deadline
        return deadline if wait is None else min(deadline, wait)

    def _run_setup(self, argv: list[str]) -> tuple[int, list[str]]:
        """Runs a setup command (pip) as a stoppable host logging to algo-1's log."""
        lines: list[str] = []
        source = code_dir(self.workspace)
        append_event(self.workspace.log_file, f"sagebox: running {' '.join(argv)}")
        command = HostCommand(
            self.workspace.host, argv, source, dict(os.environ, PIP_NO_INPUT="1"), self.workspace.log_file
        )
        outcome = self.run_hosts([command], on_line=lambda line, _at: lines.append(line))
        if outcome is None or outcome.cause is ExitCause.STOPPED:
            return 1, ["ERROR: the training job was stopped"]
        return outcome.exit_code, lines

    # -- metrics -------------------------------------------------------------------------

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

        def record_metrics(record: ResourceRecord) -> None:
            record.document["FinalMetricDataList"] = final

        self.record_change(record_metrics)

    # -- endings -------------------------------------------------------------------------

    def _stopped(self, secondary: str) -> Ending:
        """A stopped job keeps what the algorithm saved, as SageMaker does."""
        if self.interrupted:
            return Ending("Stopped", secondary=secondary)  # ends Failed: the server stopped
        members: dict[str, Any] = {}
        if any(any(w.model_dir.iterdir()) for w in self.workspaces if w.model_dir.exists()):
            try:
                members["ModelArtifacts"] = {"S3ModelArtifacts": self._upload_artifacts()}
            except ObjectStoreError:
                log.warning("could not upload the artifacts of stopped job %s", self.name)
        return self.stopped_ending(secondary if secondary != "Stopped" else None, members)

    def _upload_artifacts(self) -> str:
        """Uploads model/ and output/data/ (every host's, merged): from the hosts' nodes when
        they hold them (the attempt ended well on Ray with an S3 server), else from here."""
        model, uploads = artifact_uploads(self._document, self.name)
        if self._execution is not None and self._execution.upload() is not None:
            return model
        for upload in uploads:
            folders = [w.root / upload.folder for w in self.workspaces]
            upload_merged_trees(self._objects, folders, upload.uri, compress=upload.compress)
        return model

    def _failure_reason(self, outcome: ExecutionOutcome) -> str:
        """The FailureReason of a host that exited non-zero; on several hosts, the failed one's, named."""
        workspace = next((w for w in self.workspaces if w.host == outcome.failed_host), self.workspace)
        reason = self._host_failure_reason(workspace, outcome.exit_code, self._argv.get(workspace.host, []))
        if len(self.workspaces) == 1:
            return reason[:1024]
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
