"""The container contract: a job's folder laid out as /opt/ml, and the SM_* environment.

A job process sees what a SageMaker training container sees, rooted in its own folder
instead of /opt/ml. `SAGEMAKER_BASE_DIR` is the sagemaker-training toolkit's own
override of /opt/ml, and every SM_* path points into the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    content_type: str | None = None
    input_mode: str = "File"
    distribution: str = "FullyReplicated"
    record_wrapper: str | None = None
    compression: str | None = None

    def config(self) -> dict[str, str]:
        entry = {"TrainingInputMode": self.input_mode, "S3DistributionType": self.distribution}
        entry["RecordWrapperType"] = self.record_wrapper or "None"
        if self.content_type:
            entry["ContentType"] = self.content_type
        if self.compression and self.compression != "None":
            entry["CompressionType"] = self.compression
        return entry


class TrainingWorkspace:
    """One training job's folder: input/config, input/data/<channel>, model, output, ..."""

    def __init__(
        self,
        root: Path,
        host: str = "algo-1",
        hosts: tuple[str, ...] = ("algo-1",),
        logs_dir: Path | None = None,
        checkpoint_folder: str = "checkpoints",
    ) -> None:
        self.root = root
        self.host = host
        self.hosts = hosts
        self.logs_dir = logs_dir or root / "logs"
        self.checkpoint_folder = checkpoint_folder
        """Where CheckpointConfig.LocalPath lies, relative to the host's /opt/ml."""

    @property
    def rank(self) -> int:
        """The host's position in `hosts` (algo-1 is 0)."""
        return self.hosts.index(self.host)

    @property
    def is_leader(self) -> bool:
        return self.rank == 0

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / self.checkpoint_folder

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{self.host}.jsonl"

    def channel_dir(self, channel: str) -> Path:
        return self.data_dir / channel

    def create(
        self, hyperparameters: Mapping[str, str], channels: list[ChannelSpec]
    ) -> None:
        """Lay out the folders and write the three config files; a rerun starts clean."""
        for folder in ("input", "model", "output", "checkpoints", self.checkpoint_folder):
            shutil.rmtree(self.root / folder, ignore_errors=True)
        for folder in (
            self.config_dir,
            self.model_dir,
            self.output_data_dir,
            self.output_dir / "intermediate",
            self.checkpoint_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        for channel in channels:
            self.channel_dir(channel.name).mkdir(parents=True, exist_ok=True)
        self._write("hyperparameters.json", dict(hyperparameters))
        self._write("inputdataconfig.json", {c.name: c.config() for c in channels})
        self._write("resourceconfig.json", self.resource_config())

    def resource_config(self) -> dict[str, object]:
        return {
            "current_host": self.host,
            "current_instance_type": "local",
            "current_group_name": "homogeneousCluster",
            "hosts": list(self.hosts),
            "instance_groups": [
                {"instance_group_name": "homogeneousCluster", "instance_type": "local", "hosts": list(self.hosts)}
            ],
            "network_interface_name": "lo",
        }

    def _write(self, name: str, content: object) -> None:
        target = self.config_dir / name
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(content, indent=2), encoding="utf-8")
        temporary.replace(target)

    def environment(
        self,
        *,
        job_name: str,
        job_arn: str,
        hyperparameters: Mapping[str, str],
        channels: list[ChannelSpec],
        user_environment: Mapping[str, str] | None = None,
        base: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The process environment: the server's, the SM_* contract, then the job's own."""
        env = dict(os.environ if base is None else base)
        names = [c.name for c in channels]
        input_config = {c.name: c.config() for c in channels}
        env.update(
            {
                "SAGEMAKER_BASE_DIR": str(self.root),
                "TRAINING_JOB_NAME": job_name,
                "TRAINING_JOB_ARN": job_arn,
                "PYTHONUNBUFFERED": "1",
                "SM_MODEL_DIR": str(self.model_dir),
                "SM_INPUT_DIR": str(self.root / "input"),
                "SM_INPUT_CONFIG_DIR": str(self.config_dir),
                "SM_OUTPUT_DIR": str(self.output_dir),
                "SM_OUTPUT_DATA_DIR": str(self.output_data_dir),
                "SM_OUTPUT_INTERMEDIATE_DIR": str(self.output_dir / "intermediate"),
                "SM_CHANNELS": json.dumps(names),
                "SM_HPS": json.dumps(dict(hyperparameters)),
                "SM_HOSTS": json.dumps(list(self.hosts)),
                "SM_CURRENT_HOST": self.host,
                "SM_NUM_CPUS": str(os.cpu_count() or 1),
                "SM_NUM_GPUS": "0",
                "SM_NUM_NEURONS": "0",
                "SM_LOG_LEVEL": "20",
                "SM_NETWORK_INTERFACE_NAME": "lo",
                "SM_INPUT_DATA_CONFIG": json.dumps(input_config),
                "SM_RESOURCE_CONFIG": json.dumps(self.resource_config()),
                "SM_CHECKPOINT_DIR": str(self.checkpoint_dir),
            }
        )
        for channel in names:
            env[f"SM_CHANNEL_{channel.upper()}"] = str(self.channel_dir(channel))
        for key, value in hyperparameters.items():
            env[f"SM_HP_{key.upper()}"] = str(value)
        env.update(user_environment or {})
        return env

    def clear_input_data(self) -> None:
        """Drops the staged copy of the input data once a job has ended."""
        shutil.rmtree(self.data_dir, ignore_errors=True)


def host_names(count: int) -> tuple[str, ...]:
    """SageMaker's host names for `count` instances: algo-1 .. algo-N."""
    return tuple(f"algo-{i}" for i in range(1, count + 1))


def host_workspaces(job_root: Path, count: int, checkpoint_folder: str = "checkpoints") -> list[TrainingWorkspace]:
    """One workspace per host; a single host is the job folder itself, several live in hosts/<host>.

    Every host logs into the job folder's logs/ as <host>.jsonl, so each is its own log stream.
    """
    if count == 1:
        return [TrainingWorkspace(job_root, checkpoint_folder=checkpoint_folder)]
    hosts = host_names(count)
    return [
        TrainingWorkspace(job_root / "hosts" / host, host, hosts, job_root / "logs", checkpoint_folder)
        for host in hosts
    ]
