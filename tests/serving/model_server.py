"""Running ``python -m sagebox.serving`` as a real process for tests."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

READY = re.compile(r"sagebox model server ready on port (\d+)")


class ModelServerProcess:
    """One model server process on a free loopback port (``SAGEMAKER_BIND_TO_PORT=0``)."""

    def __init__(
        self, base_dir: Path, handler: str = "sagebox.serving.handlers.xgboost", env: dict[str, str] | None = None
    ) -> None:
        self.base_dir = base_dir
        self.handler = handler
        self.env = env or {}
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.stderr_path = base_dir / "server-stderr.log"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "sagebox.serving", "--handler", self.handler]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(self.base_dir),
            "SAGEMAKER_BIND_TO_PORT": "0",
            **self.env,
        }

    def start(self, timeout: float = 90) -> ModelServerProcess:
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                self.command(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=self.environment(),
            )
        lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"model server did not start: {self.stderr()}") from None
        match = READY.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"unexpected first line {line!r}: {self.stderr()}")
        self.port = int(match.group(1))
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_to_exit(base_dir: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run a server that is expected to fail at start-up; returns the finished process."""
    server = ModelServerProcess(base_dir)
    return subprocess.run(
        server.command(), capture_output=True, text=True, env=server.environment(), timeout=timeout
    )
