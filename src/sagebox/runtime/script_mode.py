"""Script mode: the sagemaker-training toolkit's contract with a user's entry point.

In a framework container the toolkit decodes the hyperparameters (the SageMaker SDK
JSON-encodes every value), keeps the ``sagemaker_*`` ones for itself, and runs
``sagemaker_program`` from /opt/ml/code with the rest as ``--name value`` arguments
and in the SM_* variables described in its ``environment.py``. This module
reproduces that contract for a job folder; it starts nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagebox.runtime.training_workspace import ChannelSpec, TrainingWorkspace

SAGEMAKER_PREFIX = "sagemaker_"
# The toolkit's own hyperparameters (never passed to the script); other sagemaker_* ones are
# "additional framework parameters". A tuning job adds _tuning_objective_metric to its trials.
TOOLKIT_HYPERPARAMETERS = frozenset(
    {
        "_tuning_objective_metric",
        "sagemaker_program",
        "sagemaker_submit_directory",
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_container_log_level",
        "sagemaker_job_name",
        "sagemaker_region",
        "sagemaker_s3_output",
        "sagemaker_estimator_class_name",
        "sagemaker_estimator_module",
    }
)
DEFAULT_LOG_LEVEL = 20
# Host names (algo-1 ..) do not resolve outside SageMaker's container network; every host
# here is a process on this machine, so the leader listens on the loopback address.
MASTER_ADDR = "127.0.0.1"


def decode_value(raw: str) -> Any:
    """A hyperparameter as the toolkit sees it: JSON when it parses, else the text itself."""
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def decode_hyperparameters(raw: Mapping[str, str]) -> dict[str, Any]:
    return {name: decode_value(value) for name, value in raw.items()}


def as_text(value: Any) -> str:
    """Strings as they are; everything else in its JSON form (true, 3, 0.5, [1, 2])."""
    return value if isinstance(value, str) else json.dumps(value)


def command_line_arguments(hyperparameters: Mapping[str, Any]) -> list[str]:
    """The user's hyperparameters as arguments, sorted by name, as the toolkit passes them.

    A one-letter name becomes ``-x``, any longer one ``--name``.
    """
    arguments: list[str] = []
    for name in sorted(hyperparameters):
        arguments += [f"-{name}" if len(name) == 1 else f"--{name}", as_text(hyperparameters[name])]
    return arguments


@dataclass(frozen=True)
class ScriptInvocation:
    """One run of a user's entry point: the program, its folder, its hyperparameters."""

    program: str
    code_dir: Path
    hyperparameters: Mapping[str, str]
    """The job's hyperparameters as given (JSON-encoded values, sagemaker_* included)."""
    submit_directory: str | None = None

    @property
    def decoded(self) -> dict[str, Any]:
        return decode_hyperparameters(self.hyperparameters)

    @property
    def user_hyperparameters(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.decoded.items()
            if not k.startswith(SAGEMAKER_PREFIX) and k not in TOOLKIT_HYPERPARAMETERS
        }

    @property
    def framework_parameters(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.decoded.items()
            if k.startswith(SAGEMAKER_PREFIX) and k not in TOOLKIT_HYPERPARAMETERS
        }

    @property
    def arguments(self) -> list[str]:
        return command_line_arguments(self.user_hyperparameters)

    @property
    def program_path(self) -> Path:
        return self.code_dir / self.program

    def argv(self, python: str) -> list[str]:
        """A ``.sh`` program runs with bash; anything else with `python`."""
        runner = "bash" if self.program.endswith(".sh") else python
        return [runner, str(self.program_path), *self.arguments]

    @property
    def log_level(self) -> int:
        level = self.decoded.get("sagemaker_container_log_level", DEFAULT_LOG_LEVEL)
        return level if isinstance(level, int) else DEFAULT_LOG_LEVEL

    def environment(
        self,
        workspace: TrainingWorkspace,
        *,
        job_name: str,
        job_arn: str,
        channels: list[ChannelSpec],
        user_environment: Mapping[str, str] | None = None,
        base: Mapping[str, str] | None = None,
        master_port: int | None = None,
    ) -> dict[str, str]:
        """The workspace's SM_* variables with the toolkit's script-mode ones; the job's own last."""
        env = workspace.environment(
            job_name=job_name, job_arn=job_arn, hyperparameters={}, channels=channels, base=base
        )
        for name in [k for k in env if k.startswith("SM_HP_")]:
            del env[name]
        user = self.user_hyperparameters
        module_name = Path(self.program).name.rsplit(".", 1)[0]
        module_dir = self.submit_directory or str(self.code_dir)
        channel_dirs = {c.name: str(workspace.channel_dir(c.name)) for c in channels}
        training_env: dict[str, Any] = {
            "additional_framework_parameters": self.framework_parameters,
            "channel_input_dirs": channel_dirs,
            "current_host": workspace.host,
            "current_instance_group": "homogeneousCluster",
            "current_instance_group_hosts": list(workspace.hosts),
            "current_instance_type": "local",
            "framework_module": None,
            "hosts": list(workspace.hosts),
            "hyperparameters": user,
            "input_config_dir": str(workspace.config_dir),
            "input_data_config": {c.name: c.config() for c in channels},
            "input_dir": str(workspace.root / "input"),
            "is_master": workspace.host == workspace.hosts[0],
            "job_name": job_name,
            "log_level": self.log_level,
            "master_hostname": workspace.hosts[0],
            "model_dir": str(workspace.model_dir),
            "module_dir": module_dir,
            "module_name": module_name,
            "network_interface_name": "lo",
            "num_cpus": os.cpu_count() or 1,
            "num_gpus": 0,
            "num_neurons": 0,
            "output_data_dir": str(workspace.output_data_dir),
            "output_dir": str(workspace.output_dir),
            "output_intermediate_dir": str(workspace.output_dir / "intermediate"),
            "resource_config": workspace.resource_config(),
            "user_entry_point": self.program,
        }
        env.update(
            {
                "SM_HPS": json.dumps(user),
                "SM_USER_ARGS": json.dumps(self.arguments),
                "SM_FRAMEWORK_PARAMS": json.dumps(self.framework_parameters),
                "SM_FRAMEWORK_MODULE": "",
                "SM_MODULE_DIR": module_dir,
                "SM_MODULE_NAME": module_name,
                "SM_USER_ENTRY_POINT": self.program,
                "SM_LOG_LEVEL": str(self.log_level),
                "SM_IS_MASTER": "true" if training_env["is_master"] else "false",
                "SM_MASTER_ADDR": MASTER_ADDR if master_port is not None else workspace.hosts[0],
                "SM_CURRENT_INSTANCE_TYPE": "local",
                "SM_CURRENT_INSTANCE_GROUP": "homogeneousCluster",
                "SM_CURRENT_INSTANCE_GROUP_HOSTS": json.dumps(list(workspace.hosts)),
                "SM_TRAINING_ENV": json.dumps(training_env),
            }
        )
        if master_port is not None:
            env.update(rendezvous_environment(workspace, master_port))
        for name, value in user.items():
            env[f"SM_HP_{name.upper()}"] = as_text(value)
        existing = env.get("PYTHONPATH")
        env["PYTHONPATH"] = os.pathsep.join([str(self.code_dir), *([existing] if existing else [])])
        env.update(user_environment or {})
        return env


def rendezvous_environment(workspace: TrainingWorkspace, master_port: int) -> dict[str, str]:
    """What ``torch.distributed``'s env:// rendezvous reads: one process per host, the leader as master.

    The PyTorch container's toolkit exports MASTER_ADDR (the first host) and MASTER_PORT;
    WORLD_SIZE and RANK follow from `hosts`, as its examples derive them.
    """
    return {
        "MASTER_ADDR": MASTER_ADDR,
        "MASTER_PORT": str(master_port),
        "SM_MASTER_PORT": str(master_port),
        "WORLD_SIZE": str(len(workspace.hosts)),
        "RANK": str(workspace.rank),
        "NODE_RANK": str(workspace.rank),
        "LOCAL_RANK": "0",
        "LOCAL_WORLD_SIZE": "1",
    }
