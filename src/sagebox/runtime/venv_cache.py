"""Virtual environments for script-mode jobs with a requirements.txt, cached by its content.

Each environment lives in ``<root>/<sha256 of requirements.txt>`` and is reused by every
later job with the same file. It is built with ``--system-site-packages`` and also sees
the server's own site-packages (the server usually runs in a virtual environment
itself, whose packages ``--system-site-packages`` alone would not reach), so only what
is missing gets installed. Builds happen in a temporary folder renamed into place once
complete: a half-built environment is never found, and two jobs building the same one
at once both succeed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Callable
from pathlib import Path

READY_MARKER = ".sagebox-ready"

# Runs an install command with its output going to the job's log; returns the exit code
# and the output's lines.
CommandRunner = Callable[[list[str]], tuple[int, list[str]]]


class RequirementsInstallError(Exception):
    """pip could not install a requirements.txt; the message quotes pip's last error."""


def requirements_digest(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def environment_python(environment: Path) -> Path:
    return environment / "bin" / "python"


def last_error_line(lines: list[str]) -> str:
    """pip's last ``ERROR:`` line, else its last non-empty line."""
    texts = [line.strip() for line in lines if line.strip()]
    errors = [line for line in texts if line.startswith("ERROR:")]
    if errors:
        return errors[-1]
    return texts[-1] if texts else "pip printed nothing"


class VirtualEnvCache:
    """Python environments for requirements files, under `root`."""

    def __init__(self, root: Path, base_python: str = sys.executable) -> None:
        self.root = root
        self._base_python = base_python

    def python_for(self, requirements: Path, run: CommandRunner) -> Path:
        """The interpreter of the environment for `requirements`, building it when needed.

        `run` executes pip (its output belongs in the job's log). Raises
        RequirementsInstallError when the install fails.
        """
        target = self.root / requirements_digest(requirements)
        if (target / READY_MARKER).exists():
            return environment_python(target)
        self.root.mkdir(parents=True, exist_ok=True)
        building = self.root / f".build-{target.name[:16]}-{uuid.uuid4().hex[:8]}"
        try:
            self._build(building, requirements, run)
            try:
                os.rename(building, target)
            except OSError:
                if not (target / READY_MARKER).exists():
                    raise
                # Another job finished the same environment first: use that one.
                return environment_python(target)
            _repoint_scripts(target / "bin", building, target)
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return environment_python(target)

    def _build(self, folder: Path, requirements: Path, run: CommandRunner) -> None:
        python = create_overlay(folder, self._base_python)
        # pip itself comes from the server's site-packages (seen through the .pth file).
        code, lines = run(
            [
                str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                "-r", str(requirements),
            ]
        )
        if code != 0:
            raise RequirementsInstallError(last_error_line(lines))
        (folder / READY_MARKER).write_text(str(requirements_digest(requirements)), encoding="utf-8")


def create_overlay(folder: Path, base_python: str = sys.executable) -> Path:
    """An environment in `folder` seeing the server's packages, where pip installs go; its python."""
    created = subprocess.run(
        [base_python, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode != 0:
        raise RequirementsInstallError(
            "could not create a virtual environment: " + last_error_line(created.stderr.splitlines())
        )
    _inherit_server_packages(folder)
    _pip_launchers(folder)
    return environment_python(folder)


def _pip_launchers(environment: Path) -> None:
    """`pip` and `pip3` in the environment's bin, so a bare `pip install` installs there.

    The environment is made without pip (the server's pip is importable through its
    packages); without these, `pip` on the PATH would be the server's own.
    """
    python = environment_python(environment)
    for name in ("pip", "pip3"):
        launcher = environment / "bin" / name
        launcher.write_text(
            f"#!{python}\nimport runpy\nrunpy.run_module('pip', run_name='__main__', alter_sys=True)\n",
            encoding="utf-8",
        )
        launcher.chmod(0o755)


JOB_PYTHON_DIR = ".sagebox-python"


def job_python(job_root: Path) -> Path:
    """The interpreter of a job's own overlay environment, in `job_root`, made once.

    A job that installs packages itself (``pip install -r requirements.txt`` in a driver
    script) installs them there, not into the server's environment.
    """
    folder = job_root / JOB_PYTHON_DIR
    python = environment_python(folder)
    if python.exists():
        return python
    shutil.rmtree(folder, ignore_errors=True)
    return create_overlay(folder)


def _site_packages(environment: Path) -> Path:
    relative = Path(sysconfig.get_path("purelib")).relative_to(sys.prefix)
    return environment / relative


def _inherit_server_packages(environment: Path) -> None:
    """Makes the server's site-packages (and their .pth files) visible after the environment's own."""
    folders = [p for p in site.getsitepackages() if Path(p).is_dir()]
    lines = [f"import site; site.addsitedir({folder!r})" for folder in folders]
    target = _site_packages(environment)
    target.mkdir(parents=True, exist_ok=True)
    (target / "zz-sagebox-server-packages.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _repoint_scripts(bin_dir: Path, old: Path, new: Path) -> None:
    """Console scripts pip wrote name the build folder in their #! line; point them at the final one."""
    old_prefix, new_prefix = f"#!{old}".encode(), f"#!{new}".encode()
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        with script.open("rb") as handle:
            head = handle.read(len(old_prefix))
        if head == old_prefix:
            script.write_bytes(new_prefix + script.read_bytes()[len(old_prefix) :])
