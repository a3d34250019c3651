"""What a SageMaker training container reads and writes, as seen from inside the job.

Everything is rooted at ``SAGEMAKER_BASE_DIR`` (default ``/opt/ml``)::

    input/config/hyperparameters.json     {"name": "value", ...}   (strings)
    input/config/inputdataconfig.json     {"train": {"ContentType": ..., ...}, ...}
    input/config/resourceconfig.json      {"current_host": "algo-1", "hosts": [...]}
    input/data/<channel>/...              the channel's files (may be nested)
    model/                                what the job leaves here becomes model.tar.gz
    output/data/                          becomes output.tar.gz
    output/failure                        its first 1024 characters become FailureReason
    checkpoints/                          synced with CheckpointConfig

A job exits 0 when it succeeded; any other exit code marks it Failed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR_VARIABLE = "SAGEMAKER_BASE_DIR"
DEFAULT_BASE_DIR = "/opt/ml"
FAILURE_REASON_LIMIT = 1024


class ContractError(ValueError):
    """A configuration file of the job folder is missing its expected shape."""


@dataclass(frozen=True)
class ChannelConfig:
    """One entry of ``inputdataconfig.json``."""

    name: str
    content_type: str | None = None
    training_input_mode: str = "File"
    s3_distribution_type: str = "FullyReplicated"
    record_wrapper_type: str = "None"
    compression_type: str = "None"

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> ChannelConfig:
        return cls(
            name=name,
            content_type=data.get("ContentType"),
            training_input_mode=data.get("TrainingInputMode", "File"),
            s3_distribution_type=data.get("S3DistributionType", "FullyReplicated"),
            record_wrapper_type=data.get("RecordWrapperType", "None"),
            compression_type=data.get("CompressionType", "None"),
        )


@dataclass(frozen=True)
class ResourceConfig:
    """``resourceconfig.json``: which host this is among the job's hosts."""

    current_host: str = "algo-1"
    hosts: tuple[str, ...] = ("algo-1",)
    network_interface_name: str = "eth0"


def default_base_dir() -> Path:
    """``$SAGEMAKER_BASE_DIR``, else ``/opt/ml``."""
    return Path(os.environ.get(BASE_DIR_VARIABLE) or DEFAULT_BASE_DIR)


def _read_json(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path.name} is not valid JSON: {exc}") from None


def _json_object(path: Path) -> dict[str, Any]:
    data = _read_json(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContractError(f"{path.name} must hold a JSON object")
    return data


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class TrainingEnvironment:
    """The job folder's configuration, loaded once at start-up."""

    base_dir: Path
    hyperparameters: dict[str, str] = field(default_factory=dict)
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    resource_config: ResourceConfig = field(default_factory=ResourceConfig)

    @classmethod
    def load(cls, base_dir: Path | str | None = None) -> TrainingEnvironment:
        """Read the configuration under ``base_dir`` (default: ``$SAGEMAKER_BASE_DIR``)."""
        root = Path(base_dir) if base_dir else default_base_dir()
        config = root / "input" / "config"
        raw_hps = _json_object(config / "hyperparameters.json")
        raw_channels = _json_object(config / "inputdataconfig.json")
        channels = {}
        for name, entry in raw_channels.items():
            if not isinstance(entry, dict):
                raise ContractError(f"inputdataconfig.json: channel '{name}' must be an object")
            channels[name] = ChannelConfig.from_json(name, entry)
        resources = _json_object(config / "resourceconfig.json")
        hosts = resources.get("hosts") or ["algo-1"]
        return cls(
            base_dir=root,
            hyperparameters={str(k): _as_text(v) for k, v in raw_hps.items()},
            channels=channels,
            resource_config=ResourceConfig(
                current_host=resources.get("current_host", hosts[0]),
                hosts=tuple(hosts),
                network_interface_name=resources.get("network_interface_name", "eth0"),
            ),
        )

    @property
    def input_data_dir(self) -> Path:
        return self.base_dir / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.base_dir / "model"

    @property
    def output_dir(self) -> Path:
        return self.base_dir / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_path(self) -> Path:
        return self.output_dir / "failure"

    @property
    def checkpoint_dir(self) -> Path:
        return self.base_dir / "checkpoints"

    def channel_dir(self, channel: str) -> Path:
        return self.input_data_dir / channel

    def channel_files(self, channel: str) -> list[Path]:
        """The channel's regular files, nested folders included, hidden ones left out, sorted."""
        root = self.channel_dir(channel)
        if not root.is_dir():
            return []
        files: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames[:] = [name for name in dirnames if not name.startswith(".")]
            files.extend(Path(dirpath) / name for name in filenames if not name.startswith("."))
        return sorted(path for path in files if path.is_file())

    def write_failure(self, message: str) -> None:
        """Record why the job failed (``output/failure``), replacing any earlier message."""
        self.failure_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.failure_path.with_name(".failure.tmp")
        temporary.write_text(message, encoding="utf-8")
        os.replace(temporary, self.failure_path)
