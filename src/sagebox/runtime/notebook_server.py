"""A notebook instance's JupyterLab server and lifecycle scripts as local processes.

The instance's folder stands for its EBS volume: `SageMaker/` is the Lab's root (what a
SageMaker notebook instance shows under /home/ec2-user/SageMaker), `logs/` holds the
server's and the scripts' output. The server listens on a free loopback port with a
random Jupyter token; the lifecycle scripts run with bash in the instance's folder, as
SageMaker runs them before the instance is InService, each within SageMaker's 5 minutes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from sagebox.runtime.executor import Execution, Executor, HostCommand
from sagebox.runtime.logs import read_events
from sagebox.runtime.model_server import free_port

READY_TIMEOUT_SECONDS = 60.0
PYTHON_VARIABLE = "SAGEBOX_NOTEBOOK_PYTHON"
SCRIPT_TIMEOUT_SECONDS = 300.0
URL_SECONDS = 300.0  # a presigned URL opens the Lab within 5 minutes, as SageMaker's does
IDENTITY_DIR = (
    Path(__file__).resolve().parent / "lab_identity"
)  # SageMaker stops a lifecycle script after 5 minutes
MISSING_JUPYTERLAB = (
    "JupyterLab is not installed on the sagebox server: install sagebox's `notebook` extra "
    "(pip install 'sagebox[notebook]') and start the notebook instance again."
)


class NotebookStartError(Exception):
    """A lifecycle script failed or the server never answered; the message says why."""


def notebook_python() -> str:
    """The interpreter the Lab runs with: SAGEBOX_NOTEBOOK_PYTHON (an environment of the
    user's own with JupyterLab), else the server's own Python."""
    return os.environ.get(PYTHON_VARIABLE) or sys.executable


def jupyterlab_installed(python: str | None = None) -> bool:
    """Whether `python` (by default the one the Lab runs with) can import JupyterLab."""
    python = python or notebook_python()
    if python == sys.executable:
        return importlib.util.find_spec("jupyterlab") is not None
    try:
        found = subprocess.run(
            [python, "-c", "import jupyterlab"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


def run_lifecycle_script(script: str, phase: str, folder: Path, env: Mapping[str, str]) -> None:
    """Runs one lifecycle script (already decoded) with bash in `folder`; NotebookStartError
    when it exits non-zero or runs past SageMaker's limit. Its output goes to logs/."""
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"{phase}.sh"
    path.write_text(script)
    with (logs / f"LifecycleConfigOn{phase.capitalize()}.log").open("ab") as out:
        try:
            done = subprocess.run(
                ["bash", str(path)],
                cwd=folder,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=SCRIPT_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise NotebookStartError(
                f"Notebook Instance Lifecycle Config script On{phase.capitalize()} ran longer than "
                f"{SCRIPT_TIMEOUT_SECONDS / 60:.0f} minutes."
            ) from exc
    if done.returncode != 0:
        raise NotebookStartError(
            f"Notebook Instance Lifecycle Config script On{phase.capitalize()} failed with exit code "
            f"{done.returncode}; see {logs / f'LifecycleConfigOn{phase.capitalize()}.log'}."
        )


class JupyterLabProcess:
    """`python -m jupyterlab` serving `<folder>/SageMaker` on a loopback port, run by the
    executor as a one-host execution."""

    HOST = "notebook-server"

    def __init__(self, executor: Executor, folder: Path, environment: Mapping[str, str]) -> None:
        self._executor = executor
        self.folder = folder
        self.root = folder / "SageMaker"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = folder / "logs" / "jupyter.log"
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        # The presigned URLs' tokens; those of an earlier start open nothing.
        self.presigned_file = folder / ".sagebox" / "presigned.json"
        self.presigned_file.parent.mkdir(parents=True, exist_ok=True)
        self.presigned_file.unlink(missing_ok=True)
        # The key signing the Lab's login cookies, new each start: no login outlives a stop.
        cookie_secret = folder / ".sagebox" / "cookie_secret"
        cookie_secret.unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(environment)
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"),
                "JUPYTER_DATA_DIR": str(folder / ".local" / "jupyter"),
                "HOME": str(folder),
                "SAGEBOX_PRESIGNED_TOKENS": str(self.presigned_file),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(IDENTITY_DIR), env.get("PYTHONPATH", "")) if p
                ),
            }
        )
        argv = [
            notebook_python(),
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.identity_provider_class=sagebox_lab_identity.PresignedTokenIdentityProvider",
            f"--ServerApp.cookie_secret_file={cookie_secret}",
            "--ServerApp.allow_remote_access=False",
            "--LabApp.news_url=None",
        ]
        if os.geteuid() == 0:  # the Lab refuses root unless told; sagebox's server may run as root
            argv.append("--allow-root")
        self._command = HostCommand(self.HOST, argv, self.root, env, self.log_file)
        self._execution: Execution | None = None

    @property
    def execution_token(self) -> dict[str, object] | None:
        """What a restarted server needs to end this process (Executor.end_leftovers)."""
        return dict(self._execution.token) if self._execution is not None else None

    def presigned_url(self, session_seconds: float) -> str:
        """A URL opening the Lab for URL_SECONDS, whose login lasts `session_seconds`; the
        token is added to the file the Lab's identity provider reads (written whole, by
        rename, so the Lab never reads half of it), expired ones dropped."""
        now = time.time()
        token = secrets.token_urlsafe(24)
        try:
            issued = json.loads(self.presigned_file.read_text())
        except (OSError, ValueError):
            issued = {}
        issued = {
            k: v for k, v in issued.items() if isinstance(v, dict) and v.get("expires", 0) > now
        }
        issued[token] = {"expires": now + URL_SECONDS, "session_ends": now + session_seconds}
        partial = self.presigned_file.with_suffix(".partial")
        partial.write_text(json.dumps(issued))
        partial.replace(self.presigned_file)
        return f"{self.url}/lab?token={token}"

    def start(self) -> None:
        self._execution = self._executor.start([self._command], grace_seconds=5.0)

    def alive(self) -> bool:
        return self._execution is not None and self._execution.running()

    def ready(self) -> bool:
        try:
            answer = httpx.get(f"{self.url}/api/status", params={"token": self.token}, timeout=1.0)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ready():
                return
            if not self.alive():
                self.stop()
                tail = " | ".join(str(e["message"]) for e in read_events(self.log_file)[-5:])
                raise NotebookStartError(f"the JupyterLab server exited. Last log lines: {tail}")
            time.sleep(0.1)
        self.stop()
        raise NotebookStartError(
            f"the JupyterLab server did not answer within {timeout:.0f} seconds"
        )

    def stop(self) -> None:
        if self._execution is not None:
            self._execution.terminate()
