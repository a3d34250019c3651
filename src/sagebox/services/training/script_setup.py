"""Getting a script-mode job ready to run: its source code, its Python, its framework.

What a framework container's toolkit does before it calls the user's entry point:
unpack ``sagemaker_submit_directory`` into /opt/ml/code (here: the job folder's
``code/``), install ``requirements.txt``, and report a failure in the user's script as
``ExecuteUserScriptError``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.objects.archives import UnsafeArchiveError, unpack_archive
from sagebox.runtime.logs import read_events
from sagebox.runtime.training_workspace import TrainingWorkspace
from sagebox.runtime.venv_cache import CommandRunner, RequirementsInstallError, VirtualEnvCache
from sagebox.services.jobs import JobFailure
from sagebox.services.training.frameworks import missing_framework_reason
from sagebox.services.training.requests import ScriptPlan

REQUIREMENTS_FILE = "requirements.txt"
_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r"^(\s|#011)")


class ScriptSetupError(JobFailure):
    """The job cannot start its script; the message becomes the FailureReason."""


def code_dir(workspace: TrainingWorkspace) -> Path:
    """The job's /opt/ml/code."""
    return workspace.root / "code"


def stage_source(objects: ObjectStore, plan: ScriptPlan, destination: Path) -> None:
    """Unpacks the job's source archive into `destination` and checks the entry point is there."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True, exist_ok=True)
    source = plan.submit_directory
    if source is not None:
        with tempfile.TemporaryDirectory(prefix="sagebox-source-") as scratch:
            archive = Path(scratch) / "sourcedir.tar.gz"
            try:
                objects.download_file(source, archive)
            except ObjectStoreError as exc:
                raise ScriptSetupError(
                    f"ClientError: downloading the source directory {source} "
                    f"(HyperParameters 'sagemaker_submit_directory') failed: {exc.code}: {exc.message}"
                ) from exc
            try:
                unpack_archive(archive, destination)
            except (tarfile.TarError, UnsafeArchiveError, OSError) as exc:
                raise ScriptSetupError(
                    f"ClientError: the source directory {source} is not a usable tar.gz archive: {exc}"
                ) from exc
    if not (destination / plan.program).is_file():
        present = sorted(p.relative_to(destination).as_posix() for p in destination.rglob("*") if p.is_file())
        where = source or "(no HyperParameters 'sagemaker_submit_directory' was given)"
        raise ScriptSetupError(
            f"ClientError: the entry point '{plan.program}' (HyperParameters 'sagemaker_program') is not "
            f"in the source directory {where}; it holds: {', '.join(present[:20]) or 'no files'}."
        )


def prepare_python(plan: ScriptPlan, source: Path, venvs: VirtualEnvCache, run: CommandRunner) -> str:
    """The interpreter to run the script with: the server's, or a cached environment with the
    source's requirements.txt installed; fails when the image's framework cannot be imported."""
    python = sys.executable
    requirements = source / REQUIREMENTS_FILE
    if requirements.is_file():
        try:
            python = str(venvs.python_for(requirements, run))
        except RequirementsInstallError as exc:
            raise ScriptSetupError(
                f"AlgorithmError: InstallRequirementsError: pip could not install {REQUIREMENTS_FILE}: {exc}"
            ) from exc
    reason = missing_framework_reason(plan.framework, plan.image, python)
    if reason is not None:
        raise ScriptSetupError(reason)
    return python


def error_message(log_file: Path, lines: int = 5) -> str:
    """What the script said when it failed: the exception of its last traceback, else its last lines."""
    messages = [str(e["message"]) for e in read_events(log_file)]
    starts = [i for i, text in enumerate(messages) if text.startswith(_TRACEBACK)]
    if starts:
        after = messages[starts[-1] + 1 :]
        exception = [text for text in after if text.strip() and not _FRAME.match(text)]
        if exception:
            return "\n".join(exception[-lines:])
    tail = [text for text in messages if text.strip()]
    return "\n".join(tail[-lines:])


def script_failure_reason(workspace: TrainingWorkspace, exit_code: int, argv: list[str]) -> str:
    """SageMaker's FailureReason for a script that exited non-zero (the toolkit's wording)."""
    failure = workspace.failure_file
    if failure.exists():
        text = failure.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            return text if text.startswith("AlgorithmError") else f"AlgorithmError: {text}"
    return (
        f"AlgorithmError: ExecuteUserScriptError:\nExitCode {exit_code}\n"
        f'ErrorMessage "{error_message(workspace.log_file)}"\n'
        f'Command "{shlex.join(argv)}"'
    )
