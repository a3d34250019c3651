"""The processing container contract: a job's folder laid out as /opt/ml, and its environment.

A processing job's process sees what a SageMaker processing container sees, rooted in
its own folder instead of /opt/ml:

    <job folder>/processing/...            /opt/ml/processing/... (every input and output LocalPath)
    <job folder>/config/processingjobconfig.json, resourceconfig.json    /opt/ml/config/...
    <job folder>/output/message            /opt/ml/output/message (becomes ExitMessage)
    <job folder>/logs/algo-1.jsonl         the process's log (CloudWatch /aws/sagemaker/ProcessingJobs)

The process runs in the job folder. Paths a script receives as arguments are rewritten
(see `command`); for paths hard-coded in Python code, `sagebox.runtime.opt_ml` puts its
`bootstrap` folder on PYTHONPATH: its sitecustomize redirects file access below /opt/ml
to the job folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sagebox.runtime.opt_ml import (
    OPT_ML,
    REDIRECT_ROOT_VARIABLE,
    interpreter_first,
    is_container_path,
    local_path,
    redirect_first,
)
from sagebox.runtime.training_workspace import host_names

__all__ = ["OPT_ML", "ProcessingWorkspace", "is_container_path", "job_root"]
# What processingjobconfig.json holds: the job's own description, as SageMaker writes it.
_CONFIG_MEMBERS = (
    "ProcessingJobArn", "ProcessingJobName", "AppSpecification", "Environment", "ProcessingInputs",
    "ProcessingOutputConfig", "ProcessingResources", "NetworkConfig", "RoleArn", "StoppingCondition",
)


def job_root(jobs_dir: Path, name: str) -> Path:
    """The folder of the processing job `name` under the server's jobs folder."""
    return jobs_dir / "processing" / name


def processing_workspaces(root: Path, count: int) -> list[ProcessingWorkspace]:
    """One workspace per instance: a single one is the job folder itself, several live in
    hosts/<host>; every host logs into the job folder's logs/ as <host>.jsonl."""
    if count == 1:
        return [ProcessingWorkspace(root)]
    hosts = host_names(count)
    return [ProcessingWorkspace(root / "hosts" / host, host, hosts, root / "logs") for host in hosts]


class ProcessingWorkspace:
    """One host's folder of a processing job, standing for /opt/ml on that instance."""

    def __init__(
        self,
        root: Path,
        host: str = "algo-1",
        hosts: tuple[str, ...] = ("algo-1",),
        logs_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.host = host
        self.hosts = hosts
        self.logs_dir = logs_dir or root / "logs"

    @property
    def processing_dir(self) -> Path:
        return self.root / "processing"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def message_file(self) -> Path:
        return self.output_dir / "message"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{self.host}.jsonl"

    def local(self, path: str) -> Path:
        """The job folder's counterpart of a container path (/opt/ml or below)."""
        return local_path(self.root, path)

    def create(self, document: Mapping[str, Any], local_paths: Iterable[str]) -> None:
        """Lays out the folders (with every input's and output's LocalPath) and writes the
        two config files; a rerun starts clean."""
        for folder in (self.processing_dir, self.config_dir, self.output_dir):
            shutil.rmtree(folder, ignore_errors=True)
        for folder in (self.processing_dir, self.config_dir, self.output_dir):
            folder.mkdir(parents=True, exist_ok=True)
        for path in local_paths:
            self.local(path).mkdir(parents=True, exist_ok=True)
        config = {key: document[key] for key in _CONFIG_MEMBERS if key in document}
        self._write("processingjobconfig.json", config)
        instance_type = document["ProcessingResources"]["ClusterConfig"].get("InstanceType")
        self._write("resourceconfig.json", self.resource_config(instance_type))

    def resource_config(self, instance_type: str | None = None) -> dict[str, Any]:
        config: dict[str, Any] = {"current_host": self.host, "hosts": list(self.hosts)}
        if instance_type:
            config["current_instance_type"] = instance_type
        return config

    def _write(self, name: str, content: object) -> None:
        target = self.config_dir / name
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(content, indent=2), encoding="utf-8")
        temporary.replace(target)

    def environment(
        self,
        *,
        job_name: str,
        region: str,
        user_environment: Mapping[str, str] | None = None,
        base: Mapping[str, str] | None = None,
        api: Mapping[str, str] | None = None,
        drop: tuple[str, ...] = (),
    ) -> dict[str, str]:
        """The process environment: the server's less `drop`, the contract's variables, the API
        variables (`api`: how the job reaches the SageMaker API), then the job's own."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if k not in drop}
        env.update(
            {
                # A script or shell wrapper that runs `python3` gets the server's interpreter.
                "PATH": interpreter_first(env.get("PATH", os.defpath)),
                "PYTHONUNBUFFERED": "1",
                "AWS_REGION": region,
                "SAGEMAKER_BASE_DIR": str(self.root),
                REDIRECT_ROOT_VARIABLE: str(self.root),
                "SAGEBOX_PROCESSING_JOB_NAME": job_name,
            }
        )
        env.update(api or {})
        env.update(user_environment or {})
        # The /opt/ml redirect comes first on the path, whoever set PYTHONPATH
        # (SAGEBOX_REDIRECT_OPT_ML=0 in the job's Environment turns it off).
        env["PYTHONPATH"] = redirect_first(env.get("PYTHONPATH"))
        return env

    def clear_inputs(self, input_paths: Iterable[str], output_paths: Iterable[str]) -> None:
        """Drops the downloaded inputs once a job has ended, keeping any folder an output uses."""
        outputs = [self.local(path) for path in output_paths]
        for path in input_paths:
            folder = self.local(path)
            if any(out == folder or folder in out.parents or out in folder.parents for out in outputs):
                continue
            shutil.rmtree(folder, ignore_errors=True)
