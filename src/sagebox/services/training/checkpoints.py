"""CheckpointConfig: each host's checkpoint folder restored from S3Uri at the start of every
attempt of the job, and synced to S3Uri while it runs and when it ends.

As on SageMaker, every host of a job syncs its LocalPath to the same S3Uri (a file's key
is S3Uri/<its path below LocalPath>; hosts that must not overwrite each other write
files of their own names) and every host gets all of S3Uri back at the start. Files are
uploaded when they appear or change, never deleted from S3Uri.

The folders synced are the API server's copy of each host's workspace: with the local
executor that is where the host writes, and an executor whose hosts run on other nodes
brings those folders back while they run (HostCommand.synced), so that the last
checkpoint outlives a lost node.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.objects.prefixes import prefix_entries
from sagebox.runtime.executor import SYNC_SECONDS
from sagebox.services.jobs import JobFailure

log = logging.getLogger(__name__)

_Stamp = tuple[int, int]


class CheckpointSync:
    """Syncs the checkpoint folders of one job's hosts with its CheckpointConfig.S3Uri."""

    def __init__(self, objects: ObjectStore, s3_uri: str, folders: Sequence[Path]) -> None:
        self._objects = objects
        self._uri = s3_uri.rstrip("/")
        self._folders = list(folders)
        self._uploaded: dict[tuple[int, str], _Stamp] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> int:
        """Downloads every object under S3Uri into every host's folder; the file count
        (JobFailure when S3Uri cannot be read)."""
        try:
            entries = prefix_entries(self._objects, self._uri + "/")
            for folder in self._folders:
                folder.mkdir(parents=True, exist_ok=True)
                for uri, relative in entries:
                    target = folder / relative
                    if folder.resolve() not in target.resolve().parents:
                        continue  # a key such as ../x cannot land outside the folder
                    self._objects.download_file(uri, target)
        except ObjectStoreError as exc:
            raise JobFailure(
                f"ClientError: could not restore the checkpoints from {self._uri}: {exc.code}: {exc.message}"
            ) from exc
        with self._lock:  # what was just restored needs no upload
            self._uploaded = {
                key: stamp for index, folder in enumerate(self._folders)
                for key, stamp in _stamps(index, folder).items()
            }  # fmt: skip
        return len(entries)

    def start(self) -> None:
        """Uploads what changed every SYNC_SECONDS until stop()."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="checkpoint-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the periodic sync and uploads what changed since (the final sync)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sync()

    def _loop(self) -> None:
        while not self._stop.wait(SYNC_SECONDS):
            self.sync()

    def sync(self) -> int:
        """Uploads every file that appeared or changed since its last upload; how many. After a
        failed upload the rest waits, and it is tried again, at the next sync."""
        count = 0
        with self._lock:
            for index, folder in enumerate(self._folders):
                for key, stamp in _stamps(index, folder).items():
                    if self._uploaded.get(key) == stamp:
                        continue
                    try:
                        self._objects.upload_file(folder / key[1], f"{self._uri}/{key[1]}")
                    except FileNotFoundError:
                        continue  # replaced by the host meanwhile: its successor goes next time
                    except (ObjectStoreError, OSError) as exc:
                        # The store retried already (objects/s3.py); the rest waits for the next sync.
                        log.warning("checkpoint %s not uploaded yet: %s", key[1], exc)
                        return count
                    self._uploaded[key] = stamp
                    count += 1
        return count


def _stamps(index: int, folder: Path) -> dict[tuple[int, str], _Stamp]:
    stamps = {}
    for path in folder.rglob("*") if folder.is_dir() else ():
        if path.is_file() and not path.is_symlink() and not path.name.startswith(".sagebox-"):
            try:
                info = path.stat()
            except FileNotFoundError:  # renamed or removed by the running host meanwhile
                continue
            stamps[(index, path.relative_to(folder).as_posix())] = (info.st_size, info.st_mtime_ns)
    return stamps
