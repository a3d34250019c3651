"""Running a training job's ContainerEntrypoint on this machine, its folder standing for /opt/ml.

Three things make the /opt/ml paths of a container command find the job folder
(`sagebox.runtime.opt_ml`): they are rewritten in the command line, wherever they occur
in an argument (``bash -c "... /opt/ml/input/data/code/run.sh"``) and in the shell
scripts of the job's channels (a driver script naming /opt/ml/input/config/...); and
Python code reaches /opt/ml paths through the redirect on PYTHONPATH.
``SAGEBOX_REDIRECT_OPT_ML=0`` in the job's Environment turns off the redirect and the
rewriting of scripts.

A leading ``python`` and the first ``python3`` on PATH are the interpreter of a
per-job environment that sees the server's packages: what the job installs itself
(``pip install -r requirements.txt`` in a driver script) goes there, not into the
server's environment.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sagebox.runtime.opt_ml import (
    is_python,
    redirect_environment,
    rewrite_shell_scripts,
    rewrite_text,
)
from sagebox.runtime.training_workspace import ChannelSpec, TrainingWorkspace
from sagebox.runtime.venv_cache import RequirementsInstallError, job_python
from sagebox.services.training.entrypoint import EntrypointPlan
from sagebox.services.training.frameworks import missing_framework_reason
from sagebox.services.training.script_setup import ScriptSetupError

REDIRECT_SWITCH = "SAGEBOX_REDIRECT_OPT_ML"
_OFF = ("0", "false", "no", "off")


def container_argv(command: Sequence[str], root: Path, python: str = sys.executable) -> list[str]:
    """The argv to execute: a leading `python` is `python`, /opt/ml paths anywhere are `root`'s."""
    program, *arguments = command
    program = python if is_python(program) else rewrite_text(program, root)
    return [program, *(rewrite_text(argument, root) for argument in arguments)]


def _job_python(workspace: TrainingWorkspace) -> Path:
    try:
        return job_python(workspace.root)
    except RequirementsInstallError as exc:
        raise ScriptSetupError(
            f"InternalServerError: sagebox could not prepare the job's Python: {exc}"
        ) from exc


def _redirect_enabled(env: Mapping[str, str]) -> bool:
    return env.get(REDIRECT_SWITCH, "1").lower() not in _OFF


def check_program(program: str, given: str, path: str) -> None:
    """Raises ScriptSetupError when the entrypoint's program cannot be executed here."""
    if "/" not in program:
        if shutil.which(program, path=path) is None:
            raise ScriptSetupError(
                f"ClientError: the ContainerEntrypoint program '{given}' was not found on the PATH "
                "of this sagebox machine."
            )
        return
    if not os.path.isfile(program):
        raise ScriptSetupError(
            f"ClientError: the ContainerEntrypoint program '{given}' does not exist"
            + (f" (here: {program})." if program != given else ".")
        )
    if not os.access(program, os.X_OK):
        raise ScriptSetupError(
            f"ClientError: the ContainerEntrypoint program '{given}' is not executable; "
            'run it through its interpreter (e.g. ["bash", "script.sh"]).'
        )


def entrypoint_command(
    plan: EntrypointPlan,
    workspace: TrainingWorkspace,
    document: Mapping[str, Any],
    channels: list[ChannelSpec],
) -> tuple[list[str], Path, dict[str, str]]:
    """(argv, cwd, env) of the job's process, its channels' shell scripts made to find /opt/ml."""
    reason = missing_framework_reason(plan.framework, plan.image, sys.executable)
    if reason is not None:
        raise ScriptSetupError(reason)
    env = workspace.environment(
        job_name=str(document["TrainingJobName"]),
        job_arn=str(document["TrainingJobArn"]),
        hyperparameters=document.get("HyperParameters") or {},
        channels=channels,
        user_environment=document.get("Environment"),
    )
    env = redirect_environment(env, workspace.root)
    python = _job_python(workspace)
    env["PATH"] = os.pathsep.join([str(python.parent), env["PATH"]])
    if _redirect_enabled(env) and workspace.data_dir.is_dir():
        rewrite_shell_scripts(workspace.data_dir, workspace.root)
    argv = container_argv(plan.command, workspace.root, str(python))
    check_program(argv[0], plan.command[0], env["PATH"])
    return argv, workspace.root, env
