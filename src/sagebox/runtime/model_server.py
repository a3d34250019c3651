"""A model server as a local process: the inference container contract on a loopback port.

The process sees what a SageMaker inference container sees, rooted in its own folder:
the model unpacked in `<base>/model`, `SAGEMAKER_BIND_TO_PORT` naming its port, and
`GET /ping`, `POST /invocations` and `GET /execution-parameters` served there.

An endpoint's server names a `spread` key (its variant), a batch transform instance's its
job's: on a cluster executor it then runs on a node, its folder copied there, listening
on the node's address and a port the node picked, which `url` names once started; on one
machine the key changes nothing.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from sagebox.runtime.executor import Execution, Executor, HostCommand, Listening
from sagebox.runtime.logs import read_events

READY_TIMEOUT_SECONDS = 60.0
# Names the interpreter to run the server with (a model's own virtual environment);
# the server's own Python when absent.
PYTHON_VARIABLE = "SAGEBOX_SERVING_PYTHON"


class ModelServerStartError(Exception):
    """The server exited or never answered /ping; the message says why."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ModelServerProcess:
    """One model server: `python -m sagebox.serving --handler <name>` in `base_dir`, run by
    the executor as a one-host execution."""

    HOST = "model-server"

    def __init__(
        self,
        handler: str,
        *,
        executor: Executor,
        base_dir: Path,
        log_file: Path,
        environment: Mapping[str, str] | None = None,
        grace_seconds: float = 5.0,
        spread: str | None = None,
        instance_type: str | None = None,
        outlive_server: bool = False,
    ) -> None:
        self.handler = handler
        self._executor = executor
        self._grace = grace_seconds
        self.base_dir = base_dir
        self.log_file = log_file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(environment or {})
        env.update(
            {
                "SAGEMAKER_BASE_DIR": str(base_dir),
                "SAGEMAKER_BIND_TO_PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if not outlive_server:
            # The server ends itself if this process dies without stopping it. With several API
            # servers it lives on, serving the others until the one taking it over ends it.
            env["SAGEBOX_EXIT_WITH_PARENT"] = "1"
        self._command = HostCommand(
            self.HOST,
            [
                env.get(PYTHON_VARIABLE) or sys.executable,
                "-m",
                "sagebox.serving",
                "--handler",
                handler,
            ],
            base_dir,
            env,
            log_file,
            # A cluster executor ships the folder (the model, the code) to the node; the
            # port variable makes it pick the node's port and address.
            workspace=base_dir if spread is not None else None,
            instance_type=instance_type,
            port_variable="SAGEMAKER_BIND_TO_PORT" if spread is not None else None,
            spread=spread,
        )
        self._execution: Execution | None = None
        self.placement: Listening | None = None
        """Where the server runs when the executor placed it on a cluster node."""

    @property
    def token(self) -> dict[str, object] | None:
        """What a restarted server needs to end this server's process, once started."""
        return self._execution.token if self._execution is not None else None

    def start(self) -> None:
        self._execution = self._executor.start([self._command], grace_seconds=self._grace)
        self.placement = self._execution.listening(self.HOST)
        if self.placement is not None:
            self.url = f"http://{self.placement.address}:{self.placement.port}"
            self.port = self.placement.port

    def alive(self) -> bool:
        return self._execution is not None and self._execution.running()

    def exit_code(self) -> int | None:
        """The server process's exit code once it has ended (negative: the signal that ended it)."""
        return self._execution.exit_codes()[self.HOST] if self._execution is not None else None

    def ping(self, timeout: float = 2.0) -> bool:
        if not self.alive():
            return False
        try:
            return httpx.get(f"{self.url}/ping", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Blocks until /ping answers 200; ModelServerStartError if it exits or times out."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ping(timeout=1.0):
                return
            if self._execution is not None and self.exit_code() is not None:
                self._execution.terminate()  # its last output is logged once it has ended
                raise ModelServerStartError(self.failure_reason())
            time.sleep(0.02)
        self.stop()
        raise ModelServerStartError(
            f"the model server did not answer /ping within {timeout:.0f} seconds"
        )

    def failure_reason(self) -> str:
        """The server's own `ModelLoadError:` line, else its exit code and last lines."""
        lines = [str(e["message"]) for e in read_events(self.log_file)]
        for line in lines:
            if line.startswith("ModelLoadError:"):
                return line
        code = self.exit_code()
        tail = " | ".join(lines[-5:])
        return f"the model server exited with code {code}. Last log lines: {tail}"

    def stop(self) -> None:
        if self._execution is not None:
            self._execution.terminate()
