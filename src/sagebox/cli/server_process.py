"""`sagebox serve` as a child process on a free loopback port (the demo and the tests use it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import httpx


class ServerProcess:
    """A `sagebox serve --port 0` process; `endpoint_url` once started. `extra_args` are
    more `serve` flags (e.g. ["--auth"])."""

    def __init__(
        self,
        home: Path,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.home = home
        self.endpoint_url = ""
        self._extra_env = extra_env or {}
        self._extra_args = extra_args or []
        self._process: subprocess.Popen[str] | None = None
        self.output: deque[str] = deque(maxlen=400)

    def start(self, timeout: float = 60.0) -> ServerProcess:
        env = dict(os.environ)
        env.update(self._extra_env)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sagebox.cli.main",
                "serve",
                "--port",
                "0",
                "--home",
                str(self.home),
                *self._extra_args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        deadline = time.time() + timeout
        if self._process.stdout is None:
            raise RuntimeError("sagebox serve has no output stream")
        for line in self._process.stdout:
            self.output.append(line)
            if line.startswith("sagebox listening on "):
                self.endpoint_url = line.split()[3]
                break
            if time.time() > deadline:
                break
        if not self.endpoint_url:
            self.stop()
            raise RuntimeError("sagebox serve did not start:\n" + "".join(self.output))
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_healthy(deadline)
        return self

    def _drain(self) -> None:
        if self._process and self._process.stdout:
            for line in self._process.stdout:
                self.output.append(line)

    def _wait_healthy(self, deadline: float) -> None:
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.endpoint_url}/_sagebox/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("sagebox serve never became healthy:\n" + "".join(self.output))

    @property
    def pid(self) -> int | None:
        """The server's process id once started (the benchmarks read its CPU time)."""
        return self._process.pid if self._process is not None else None

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 30.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(sig)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def kill(self) -> None:
        """Dies without any shutdown, as a crash would."""
        self.stop(signal.SIGKILL)
