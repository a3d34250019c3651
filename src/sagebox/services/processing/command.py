"""The job's command line: ContainerEntrypoint + ContainerArguments, made runnable on this machine.

- A leading `python`, `python3` or `pythonX.Y` (bare or as a path, e.g. /usr/bin/python3)
  becomes the interpreter of the job's own environment (which sees the server's packages),
  since there is no image to provide one.
- Every argument naming a container path (/opt/ml or below, e.g. /opt/ml/processing/input)
  becomes the job folder's counterpart, and so does the value of a `--name=/opt/ml/...`
  argument; so do the container paths anywhere in a shell's command string
  (``bash -c "cd /opt/ml/processing/input && ..."``); everything else is passed unchanged.
- The shell scripts among the job's inputs (a `runproc.sh` the job runs with
  ``/bin/bash /opt/ml/processing/input/entrypoint/runproc.sh``) get their container paths
  rewritten the same way once the inputs are downloaded, unless the job's Environment
  sets SAGEBOX_REDIRECT_OPT_ML=0.
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Sequence

from sagebox.runtime import opt_ml
from sagebox.runtime.opt_ml import SHELLS, is_python, rewrite_shell_scripts, rewrite_text
from sagebox.runtime.processing_workspace import ProcessingWorkspace
from sagebox.runtime.venv_cache import job_python

__all__ = ["build_argv", "is_python", "prepare_command", "rewrite_argument"]

REDIRECT_SWITCH = "SAGEBOX_REDIRECT_OPT_ML"
_OFF = ("0", "false", "no", "off")


def rewrite_argument(argument: str, workspace: ProcessingWorkspace) -> str:
    """A container path argument (or `--name=` value) moved into the job folder."""
    return opt_ml.rewrite_argument(argument, workspace.root)


def shell_command_index(command: Sequence[str]) -> int | None:
    """Where the command string of `sh -c "..."` (or `bash -ec "..."`) is in `command`, if any."""
    if not command or posixpath.basename(command[0]) not in SHELLS:
        return None
    index = 1
    while index < len(command) and command[index][:1] in ("-", "+") and command[index] != "--":
        flags = command[index][1:]
        if command[index].startswith("-") and "c" in flags:
            return index + 1 if index + 1 < len(command) else None
        index += 2 if flags == "o" else 1  # `-o pipefail` takes a value
    return None


def build_argv(
    command: Sequence[str], workspace: ProcessingWorkspace, python: str = sys.executable
) -> list[str]:
    """The argv to execute for a job's ContainerEntrypoint + ContainerArguments."""
    if not command:
        raise ValueError("a processing job needs a ContainerEntrypoint")
    program, *arguments = command
    argv = [python if is_python(program) else rewrite_argument(program, workspace)]
    argv += [rewrite_argument(a, workspace) for a in arguments]
    index = shell_command_index(command)
    if index is not None:
        argv[index] = rewrite_text(command[index], workspace.root)
    return argv


def prepare_command(
    command: Sequence[str], workspace: ProcessingWorkspace, env: dict[str, str]
) -> list[str]:
    """The argv to execute, once the shell scripts among the downloaded inputs find the job folder.

    `python` / `python3` (and pip) are the job's own overlay environment's, first on the
    PATH in `env`, so what the job installs (a FrameworkProcessor's requirements.txt)
    stays out of the server's environment.
    """
    python = job_python(workspace.root)  # RequirementsInstallError when it cannot be made
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", os.defpath)])
    if env.get(REDIRECT_SWITCH, "1").lower() not in _OFF and workspace.processing_dir.is_dir():
        rewrite_shell_scripts(workspace.processing_dir, workspace.root)
    return build_argv(command, workspace, str(python))
