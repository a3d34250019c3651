"""Runs one processing job end to end: download inputs, run the command, upload outputs, record."""

from __future__ import annotations

import shutil
import time
from typing import Any

from sagebox.objects import ObjectStoreError
from sagebox.runtime.executor import Execution, ExitCause, HostCommand
from sagebox.runtime.logs import read_events
from sagebox.runtime.node_data import NodeData
from sagebox.runtime.processing_workspace import (
    ProcessingWorkspace,
    job_root,
    processing_workspaces,
)
from sagebox.runtime.venv_cache import RequirementsInstallError
from sagebox.services.job_api_access import CREDENTIAL_VARIABLES
from sagebox.services.job_states import touch
from sagebox.services.jobs import Ending, JobContext, JobFailure, JobRun
from sagebox.services.processing.command import prepare_command
from sagebox.services.processing.data_plane import (
    input_on_node,
    node_data,
    nodes_move_data,
    output_on_node,
)
from sagebox.services.processing.inputs import stage_input
from sagebox.services.processing.outputs import OutputFolder, OutputUploader, OutputUploadError
from sagebox.services.processing.requests import ProcessingPlan
from sagebox.store import ResourceRecord

MESSAGE_LIMIT = 1024


class ProcessingRun(JobRun):
    """One execution of a processing job; stop() may be called from any thread.

    On ClusterConfig.InstanceCount N > 1 the command runs once per instance algo-1..N, each
    with its own /opt/ml/processing tree (hosts/<host>/ in the job folder), its own log
    stream and its share of ShardedByS3Key inputs; every instance uploads its outputs to
    the output's S3Uri, as on SageMaker (files of the same name overwrite each other). On
    Ray with an S3 server each instance's node downloads its inputs and uploads its
    EndOfJob outputs itself (services/processing/data_plane.py). The job completes when every instance exits 0; the first to fail ends the others and is
    named in the FailureReason.
    """

    def __init__(
        self,
        name: str,
        document: dict[str, Any],
        context: JobContext,
        plan: ProcessingPlan,
        upload_interval: float = 1.0,
        api_environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name, document, context)
        self._plan = plan
        self._api_environment = api_environment or {}
        self.workspaces = processing_workspaces(job_root(self._settings.jobs_dir, name), plan.instance_count)
        self.workspace = self.workspaces[0]
        # On Ray with an S3 server the nodes move the data (services/processing/data_plane.py).
        self._on_nodes = nodes_move_data(context.objects, context.executor)
        self._node_data: list[NodeData] = []
        self._execution: Execution | None = None
        folders = [
            OutputFolder(spec, workspace.local(spec.local_path))
            for workspace in self.workspaces
            for spec in plan.outputs
            if not spec.app_managed and spec.local_path is not None and spec.s3_uri is not None
            and not (self._on_nodes and output_on_node(spec))
        ]
        self._uploader = OutputUploader(self._objects, folders, interval=upload_interval)

    # -- the whole run -------------------------------------------------------------------

    def run(self) -> Ending:
        started = self._prepare()
        if self.stopping:
            return self._ending(0, ExitCause.STOPPED)
        commands = [self._command(workspace) for workspace in self.workspaces]
        try:
            execution = self.launch(commands)
        except OSError as exc:
            if str(exc).startswith("ClientError: "):  # a node could not stage (NodeDataError)
                raise JobFailure(str(exc)) from exc
            raise JobFailure(
                f"ClientError: the ContainerEntrypoint program '{self._plan.command[0]}' could not "
                f"be started: {exc.strerror or exc}"
            ) from exc
        if execution is None:
            return self._ending(0, ExitCause.STOPPED)
        self._execution = execution
        self.record_change(lambda r: self.remember(r, execution))
        self._uploader.start()
        try:
            outcome = self.finish_execution(execution, started + self._plan.max_runtime_seconds)
        finally:
            self._uploader.stop()
        return self._ending(outcome.exit_code, outcome.cause, outcome.failed_host)

    def clean_up(self) -> None:
        if self._execution is not None:
            self._execution.release()
        inputs = [s.local_path for s in self._plan.inputs if s.local_path is not None]
        outputs = [s.local_path for s in self._plan.outputs if s.local_path is not None]
        for workspace in self.workspaces:
            workspace.clear_inputs(inputs, outputs)

    def _prepare(self) -> float:
        paths = [s.local_path for s in (*self._plan.inputs, *self._plan.outputs) if s.local_path is not None]
        for workspace in self.workspaces:
            workspace.create(self._document, paths)
        started = time.time()

        def starting(record: ResourceRecord) -> None:
            record.document["ProcessingStartTime"] = started
            touch(record, started)

        self.record_change(starting)
        count = len(self.workspaces)
        if self._on_nodes:  # what each instance's node downloads; nothing is read here
            self._node_data = node_data(self._objects, self._plan, self.workspaces)
        for spec in self._plan.inputs:
            if spec.app_managed or spec.local_path is None or (self._on_nodes and input_on_node(spec)):
                continue
            for index, workspace in enumerate(self.workspaces):
                if self.stopping:
                    return started
                folder = workspace.local(spec.local_path)
                if index > 0 and spec.distribution != "ShardedByS3Key":  # every instance gets it all
                    shutil.copytree(self.workspace.local(spec.local_path), folder, dirs_exist_ok=True)
                    continue
                stage_input(self._objects, spec, folder, lambda: self.stopping, shard=(index, count))
        return started

    def _command(self, workspace: ProcessingWorkspace) -> HostCommand:
        env = workspace.environment(
            job_name=self.name,
            region=self._settings.region,
            user_environment=self._document.get("Environment"),
            api=self._api_environment,
            drop=CREDENTIAL_VARIABLES if self._api_environment else (),
        )
        try:
            argv = prepare_command(self._plan.command, workspace, env)
        except RequirementsInstallError as exc:
            raise JobFailure(f"InternalServerError: sagebox could not prepare the job's Python: {exc}") from exc
        cluster = (self._document.get("ProcessingResources") or {}).get("ClusterConfig") or {}
        return HostCommand(
            workspace.host, argv, workspace.root, env, workspace.log_file,
            workspace=workspace.root, instance_type=cluster.get("InstanceType"),
            node_data=self._node_data[self.workspaces.index(workspace)] if self._node_data else None,
        )

    # -- endings -------------------------------------------------------------------------

    def _ending(self, exit_code: int, cause: ExitCause, failed_host: str | None = None) -> Ending:
        if self.interrupted:
            return Ending("Failed", self._states.server_stopped_reason)
        workspace = next((w for w in self.workspaces if w.host == failed_host), self.workspace)
        message, message_problem = self._exit_message(workspace)
        members = {"ExitMessage": message} if message else {}
        try:
            self._uploader.upload(self._uploader.continuous)
            if cause is ExitCause.EXITED and exit_code == 0 and message_problem is None:
                self._uploader.upload(self._uploader.end_of_job)
                if self._execution is not None:
                    self._execution.upload()  # the nodes' own outputs, when they hold them
        except OutputUploadError as exc:
            return Ending("Failed", exc.reason, members=members)
        except ObjectStoreError as exc:
            return Ending(
                "Failed", f"ClientError: uploading the outputs failed: {exc.code}: {exc.message}", members=members
            )
        if cause is not ExitCause.EXITED:  # a StopProcessingJob, or MaxRuntimeInSeconds reached
            return Ending("Stopped", members=members)
        if message_problem is not None:
            return Ending("Failed", message_problem)
        if exit_code == 0:
            return Ending("Completed", members=members)
        reason = self._failure_reason(workspace, exit_code, message)
        if len(self.workspaces) > 1:
            reason = reason.replace("AlgorithmError: ", f"AlgorithmError: Host {workspace.host}: ", 1)
        return Ending("Failed", reason[:MESSAGE_LIMIT], members=members)

    def _exit_message(self, workspace: ProcessingWorkspace) -> tuple[str | None, str | None]:
        """The first KB of the instance's /opt/ml/output/message, or why it is unusable (not UTF-8)."""
        path = workspace.message_file
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

    @staticmethod
    def _failure_reason(workspace: ProcessingWorkspace, exit_code: int, message: str | None) -> str:
        if message and message.strip():
            return f"AlgorithmError: {message.strip()}"[:MESSAGE_LIMIT]
        tail = [str(e["message"]) for e in read_events(workspace.log_file)[-5:]]
        detail = " | ".join(tail) if tail else "(the process wrote no output)"
        return (
            f"AlgorithmError: the processing container exited with code {exit_code}. "
            f"Last log lines: {detail}"
        )[:MESSAGE_LIMIT]
