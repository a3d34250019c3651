"""One host of a job on a Ray node: its workspace copied in, its process, its lines buffered.

`RayExecutor` creates one `HostProcess` actor per host, reserved with the resources of
the host's instance type. The actor unpacks the host's workspace (a tar archive the
executor ships through Ray's object store) into a folder of its node, points every path
of the command (and of the shell scripts the job received) at that copy, runs the
command as a local `JobProcess`, and keeps the lines it prints until the executor reads
them. At the end it packs what the host wrote
or changed, for the executor to lay back into the API server's workspace. Nothing here
assumes the node shares a file system with the API server. A server host (a model
server) gets a free port of the node and the node's address to listen on.

A host given `NodeData` (the object store is an S3 server) moves its data itself
(runtime/node_data.py): it stages its inputs and restores its checkpoints before the
command starts, syncs the checkpoints while it runs and once more when it ends, and, when
the executor asks after a successful end, uploads the model and output archives, the
other hosts' folders (`pack_outputs`, passed node to node by Ray) merged into the first
host's. Those folders and the inputs never travel to the API server.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import tarfile
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from sagebox.objects import ObjectStoreError
from sagebox.runtime.executor import BIND_ADDRESS_VARIABLE
from sagebox.runtime.logs import LogWriter
from sagebox.runtime.node_data import NodeData, NodeTransfers
from sagebox.runtime.opt_ml import shell_scripts
from sagebox.runtime.ports import rendezvous_port
from sagebox.runtime.process import JobProcess

# Set in each host's environment: the Ray node it runs on (its id and address).
NODE_ID_VARIABLE = "SAGEBOX_RAY_NODE_ID"
NODE_ADDRESS_VARIABLE = "SAGEBOX_RAY_NODE_ADDRESS"
# SageMaker's count of the host's vCPUs. The API server sets its own machine's; on a Ray
# node the host has what its actor reserved (its instance type's vCPUs times
# resource_scale), neither the API server's CPUs nor the whole node's.
NUM_CPUS_VARIABLE = "SM_NUM_CPUS"
Line = tuple[str, float]
# (size, mtime_ns) of each file as unpacked, to tell what the host wrote.
_Stamp = tuple[int, int]


def reserved_cpus() -> int:
    """The whole CPUs the calling actor reserved, at least one (a fraction is one thread)."""
    import ray

    reserved = ray.get_runtime_context().get_assigned_resources().get("CPU", 0.0)
    return max(1, int(reserved + 1e-6))


def pack_folder(folder: Path, only: set[str] | None = None) -> bytes:
    """The folder as an uncompressed tar archive (paths relative to it); with `only`, just
    those files. Uncompressed: job data are mostly compressed already and the CPU is the
    job's."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        if only is None:
            for entry in sorted(folder.iterdir()) if folder.exists() else []:
                archive.add(entry, arcname=entry.name)
        else:
            for name in sorted(only):
                with contextlib.suppress(FileNotFoundError):  # removed since it was seen
                    archive.add(folder / name, arcname=name, recursive=False)
    return buffer.getvalue()


def unpack_folder(data: bytes, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        archive.extractall(folder, filter="tar")


def lay_files(data: bytes, folder: Path) -> None:
    """Unpacks an archive of files into `folder` one whole file at a time: each is extracted
    beside its place and renamed over it, so that a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".sagebox-sync-") as scratch:
        unpack_folder(data, Path(scratch))
        for path in sorted(Path(scratch).rglob("*")):
            if path.is_file() and not path.is_symlink():
                target = folder / path.relative_to(scratch)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)


def _stamps(folder: Path) -> dict[str, _Stamp]:
    stamps = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                info = path.stat()
            except FileNotFoundError:  # renamed or removed by the running host meanwhile
                continue
            stamps[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return stamps


def relocate(value: str, old: str, new: str) -> str:
    """`value` with every path at or under folder `old` moved under `new` (also inside
    JSON such as SM_TRAINING_ENV); a sibling such as algo-10 of algo-1 is left alone."""
    return re.sub(re.escape(old) + r"(?![\w.-])", lambda _: new, value)


def _relocate_scripts(root: Path, old: str, new: str) -> None:
    """Shell scripts the job received had their /opt/ml paths rewritten to the API server's
    workspace (runtime/opt_ml.py); on the node they must name its copy."""
    for path in shell_scripts(root):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        moved = relocate(text, old, new)
        if moved != text:
            path.write_text(moved, encoding="utf-8")


class HostProcess:
    """A Ray actor (wrapped with ray.remote by the executor); every method may be called
    while another runs, so the actor is created with max_concurrency > 1."""

    def __init__(self, host: str) -> None:
        self._host = host
        self._lines: list[Line] = []
        self._lock = threading.Lock()
        self._process: JobProcess | None = None
        self._scratch = Path(tempfile.mkdtemp(prefix=f"sagebox-{host}-"))
        self._root: Path | None = None
        self._unpacked: dict[str, _Stamp] = {}
        self._synced: dict[str, _Stamp] = {}
        self._transfers: NodeTransfers | None = None
        self._node_data: NodeData | None = None

    def node(self) -> dict[str, str]:
        import ray

        return {
            "node_id": ray.get_runtime_context().get_node_id(),
            "address": ray.util.get_node_ip_address(),
        }

    def start(
        self,
        argv: Sequence[str],
        cwd: str,
        env: Mapping[str, str],
        grace_seconds: float,
        workspace: str | None,
        archive: bytes | None,
        port_variable: str | None = None,
        node_data: NodeData | None = None,
    ) -> int | None:
        """Unpacks the workspace, stages what `node_data` names, and starts the command;
        OSError when it cannot start (NodeDataError, ClientError: ..., when staging failed).
        A server host (`port_variable`) is given a free port of this node, which it
        returns; None for any other host."""
        argv, env = list(argv), dict(env)
        if workspace is not None:
            self._root = self._scratch / "workspace"
            unpack_folder(archive or b"", self._root)
            new = str(self._root)
            _relocate_scripts(self._root, workspace, new)
            if node_data is not None:
                here = self.node()
                self._node_data = node_data
                self._transfers = NodeTransfers(
                    node_data, self._root, self._host, f"{here['node_id']} ({here['address']})",
                    lambda line: self._keep(line, time.time()),
                )  # fmt: skip
                self._transfers.stage()
            self._unpacked = _stamps(self._root)  # inputs and checkpoints staged: not outputs
            self._synced = dict(self._unpacked)
            argv = [relocate(arg, workspace, new) for arg in argv]
            cwd = relocate(cwd, workspace, new)
            env = {key: relocate(value, workspace, new) for key, value in env.items()}
            Path(cwd).mkdir(parents=True, exist_ok=True)
        # Ray starts its workers at niceness 15 (RAY_worker_niceness) so that its own daemons
        # come first; a job's host is the node's real work and runs at normal priority, as
        # on one machine. Lowering niceness needs CAP_SYS_NICE: without it the host keeps
        # 15 unless the node was started with RAY_worker_niceness=0.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        node = self.node()
        env[NODE_ID_VARIABLE], env[NODE_ADDRESS_VARIABLE] = node["node_id"], node["address"]
        if NUM_CPUS_VARIABLE in env:
            env[NUM_CPUS_VARIABLE] = str(reserved_cpus())
        port = None
        if port_variable is not None:
            # Chosen here, on the node, as only the node knows which of its ports are free.
            port = rendezvous_port(node["address"])
            env[port_variable], env[BIND_ADDRESS_VARIABLE] = str(port), node["address"]
        # The devices Ray gave this actor are the host's.
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        self._process = JobProcess(
            argv,
            cwd=Path(cwd),
            env=env,
            log=LogWriter(self._scratch / "host.jsonl"),
            on_line=self._keep,
            grace_seconds=grace_seconds,
        )
        self._process.start()
        return port

    def _keep(self, line: str, at: float) -> None:
        with self._lock:
            self._lines.append((line, at))

    def read(self) -> tuple[list[Line], int | None]:
        """The lines printed since the last read, and the exit code once it has ended."""
        code = self._process.poll() if self._process else None
        with self._lock:
            lines, self._lines = self._lines, []
        return lines, code

    def terminate(self) -> int | None:
        """SIGTERM, SIGKILL after the grace period; the exit code once every line is kept
        (and the checkpoints synced one last time, when the node syncs them)."""
        code = self._process.terminate() if self._process else None
        if self._transfers is not None:
            self._transfers.end()
        return code

    def pack_outputs(self) -> bytes:
        """The folders this host's node would upload (NodeData.uploads), as a tar archive:
        what another host's upload merges with its own."""
        if self._root is None or self._node_data is None:
            return b""
        names = {
            str(Path(upload.folder) / name)
            for upload in self._node_data.uploads
            for name in _stamps(self._root / upload.folder)
        }
        return pack_folder(self._root, names)

    def upload(self, *others: bytes) -> dict[str, object]:
        """Uploads NodeData.uploads, the other hosts' folders (`pack_outputs`, in host order)
        merged into this host's: {"uploaded": [Uploaded as dicts]}, or {"error": [code,
        message]} when the object store refused (after its retries)."""
        if self._transfers is None:
            return {"uploaded": []}
        folders = []
        for index, archive in enumerate(others):
            folder = self._scratch / "others" / str(index)
            unpack_folder(archive, folder)
            folders.append(folder)
        try:
            return {"uploaded": [asdict(done) for done in self._transfers.upload(folders)]}
        except ObjectStoreError as exc:
            return {"error": [exc.code, exc.message]}

    def kill(self) -> None:
        """SIGKILL to the whole process group at once (what a restarted server asks)."""
        pid = self._process.pid if self._process else None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def collect(self, folders: Sequence[str] | None = None) -> bytes | None:
        """What the host wrote or changed in its workspace, as a tar archive (None without one).

        With `folders` (relative to the workspace), only the files under them that changed
        since the last such call: what the executor syncs while the host runs."""
        if self._root is None:
            return None
        if folders is None:
            now = _stamps(self._root)
            changed = {name for name, stamp in now.items() if self._unpacked.get(name) != stamp}
            if self._node_data is not None and self._node_data.checkpoint_folder is not None:
                synced = Path(self._node_data.checkpoint_folder)  # in the object store already
                changed = {name for name in changed if synced not in Path(name).parents}
            return pack_folder(self._root, changed)
        changed: dict[str, _Stamp] = {}
        for folder in folders:
            base = self._root / folder
            for name, stamp in _stamps(base).items() if base.is_dir() else ():
                relative = str(Path(folder) / name)
                if self._synced.get(relative) != stamp:
                    changed[relative] = stamp
        if not changed:
            return None
        archive = pack_folder(self._root, set(changed))
        self._synced.update(changed)  # only once packed: a file torn meanwhile goes next time
        return archive

    def clean(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)
