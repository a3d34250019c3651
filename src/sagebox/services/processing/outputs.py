"""Uploading a processing job's output folders to S3.

Each file of an output's LocalPath goes to `<S3Uri>/<its path relative to LocalPath>`.
`EndOfJob` outputs are uploaded once the job has completed. `Continuous` outputs are
swept every `interval` seconds while the job runs (a file is uploaded again whenever
its size or modification time changes) and once more when the job ends, however it
ends. Symbolic links are not followed, as in SageMaker.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.services.jobs import JobFailure
from sagebox.services.processing.requests import OutputSpec

log = logging.getLogger(__name__)


class OutputUploadError(JobFailure):
    """An output could not be uploaded; the message becomes the FailureReason."""


@dataclass(frozen=True)
class OutputFolder:
    spec: OutputSpec
    folder: Path

    def target(self, relative: str) -> str:
        return f"{(self.spec.s3_uri or '').rstrip('/')}/{relative}"

    def files(self) -> Iterable[tuple[str, Path]]:
        if not self.folder.is_dir():
            return
        for directory, _, names in os.walk(self.folder):
            for name in sorted(names):
                path = Path(directory) / name
                if path.is_symlink() or not path.is_file():
                    continue
                yield path.relative_to(self.folder).as_posix(), path


class OutputUploader:
    """Uploads output folders; `start()` begins the background sweep of Continuous ones."""

    def __init__(self, objects: ObjectStore, folders: list[OutputFolder], interval: float = 1.0) -> None:
        self._objects = objects
        self._folders = folders
        self._interval = interval
        self._uploaded: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def continuous(self) -> list[OutputFolder]:
        return [f for f in self._folders if f.spec.upload_mode == "Continuous"]

    @property
    def end_of_job(self) -> list[OutputFolder]:
        return [f for f in self._folders if f.spec.upload_mode != "Continuous"]

    def start(self) -> None:
        if not self.continuous or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._sweep_loop, name="processing-outputs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _sweep_loop(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self.upload(self.continuous)
            except OutputUploadError as exc:  # retried on the next sweep, and at the end
                log.warning("continuous upload: %s", exc)

    def upload(self, folders: Iterable[OutputFolder]) -> int:
        """Uploads every new or changed file of `folders`; returns how many were sent."""
        sent = 0
        with self._lock:
            for output in folders:
                for relative, path in output.files():
                    try:
                        status = path.stat()
                    except FileNotFoundError:
                        continue
                    stamp = (status.st_size, status.st_mtime_ns)
                    key = (output.spec.name, relative)
                    if self._uploaded.get(key) == stamp:
                        continue
                    uri = output.target(relative)
                    try:
                        self._objects.upload_file(path, uri)
                    except FileNotFoundError:
                        continue  # the job removed it meanwhile
                    except ObjectStoreError as exc:
                        raise OutputUploadError(
                            f"ClientError: uploading output '{output.spec.name}' to {uri} failed: "
                            f"{exc.code}: {exc.message}"
                        ) from exc
                    self._uploaded[key] = stamp
                    sent += 1
        return sent
