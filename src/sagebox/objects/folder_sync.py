"""Folders kept in step with an S3 prefix: everything under the prefix downloaded into
each folder at the start, then each folder's new or changed files uploaded every few
seconds and once more at the end. Files are never deleted from the prefix.

A training job's checkpoints (CheckpointConfig) are synced this way: by the API server
when the hosts write into its folders (the local executor), by each Ray node for its own
host otherwise (runtime/node_data.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from sagebox.objects.base import ObjectStore
from sagebox.objects.errors import ObjectStoreError
from sagebox.objects.prefixes import prefix_entries

log = logging.getLogger(__name__)

_Stamp = tuple[int, int]


class FolderSync:
    """Syncs `folders` with the objects under `s3_uri` (every folder to the same prefix: a
    file's key is s3_uri/<its path below its folder>)."""

    def __init__(
        self, objects: ObjectStore, s3_uri: str, folders: Sequence[Path], interval: float = 1.0
    ) -> None:
        self._objects = objects
        self._uri = s3_uri.rstrip("/")
        self._folders = list(folders)
        self._interval = interval
        self._uploaded: dict[tuple[int, str], _Stamp] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def uri(self) -> str:
        return self._uri

    def restore(self) -> int:
        """Downloads every object under the prefix into every folder; the object count
        (ObjectStoreError when the prefix cannot be read)."""
        entries = prefix_entries(self._objects, self._uri + "/")
        for folder in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            for uri, relative in entries:
                target = folder / relative
                if folder.resolve() not in target.resolve().parents:
                    continue  # a key such as ../x cannot land outside the folder
                self._objects.download_file(uri, target)
        with self._lock:  # what was just restored needs no upload
            self._uploaded = {
                key: stamp for index, folder in enumerate(self._folders)
                for key, stamp in _stamps(index, folder).items()
            }  # fmt: skip
        return len(entries)

    def start(self) -> None:
        """Uploads what changed every `interval` seconds until stop()."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="folder-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the periodic sync and uploads what changed since (the final sync)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sync()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
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
                        continue  # replaced by the writer meanwhile: its successor goes next time
                    except (ObjectStoreError, OSError) as exc:
                        # The store retried already (objects/s3.py); the rest waits for the next sync.
                        log.warning("%s not uploaded to %s yet: %s", key[1], self._uri, exc)
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
            except FileNotFoundError:  # renamed or removed by the writer meanwhile
                continue
            stamps[(index, path.relative_to(folder).as_posix())] = (info.st_size, info.st_mtime_ns)
    return stamps
