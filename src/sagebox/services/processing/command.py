"""The job's command line: ContainerEntrypoint + ContainerArguments, made runnable on this machine.

- A leading `python`, `python3` or `pythonX.Y` (bare or as a path, e.g. /usr/bin/python3)
  becomes the server's own interpreter, since there is no image to provide one.
- Every argument naming a container path (/opt/ml or below, e.g. /opt/ml/processing/input)
  becomes the job folder's counterpart, and so does the value of a `--name=/opt/ml/...`
  argument; everything else is passed unchanged.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Sequence

from sagebox.services.processing.workspace import ProcessingWorkspace, is_container_path

_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")


def is_python(program: str) -> bool:
    return _PYTHON.fullmatch(posixpath.basename(program)) is not None


def rewrite_argument(argument: str, workspace: ProcessingWorkspace) -> str:
    if is_container_path(argument):
        return str(workspace.local(argument))
    option, separator, value = argument.partition("=")
    if separator and option.startswith("-") and is_container_path(value):
        return f"{option}={workspace.local(value)}"
    return argument


def build_argv(command: Sequence[str], workspace: ProcessingWorkspace) -> list[str]:
    """The argv to execute for a job's ContainerEntrypoint + ContainerArguments."""
    if not command:
        raise ValueError("a processing job needs a ContainerEntrypoint")
    program, *arguments = command
    program = sys.executable if is_python(program) else rewrite_argument(program, workspace)
    return [program, *(rewrite_argument(a, workspace) for a in arguments)]
