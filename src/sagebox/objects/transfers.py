"""Whole folders to and from the object store: a job's channel files in, its model and
output folders out (one gzip tar, or file by file), several hosts' folders merged.

The one implementation of these moves, run where the data is: by the API server for the
local executor (and for a local-folder object store), by the Ray node itself otherwise
(runtime/node_data.py). Every upload is one PUT or a multipart upload aborted on failure
(`ObjectStore.upload_file`), so a key holds the whole file or what it held before.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sagebox.objects.archives import pack_folder
from sagebox.objects.base import ObjectInfo, ObjectStore


class OutsideFolderError(ValueError):
    """An object's path would land outside the folder it is downloaded into."""

    def __init__(self, uri: str, relative: str) -> None:
        super().__init__(f"object {uri} maps outside the folder ({relative!r})")
        self.uri = uri


@dataclass(frozen=True)
class Uploaded:
    """An object written by an upload: where, its size and ETag, the SHA-256 of its bytes."""

    uri: str
    size: int
    etag: str
    sha256: str


def download_entries(
    objects: ObjectStore, pairs: Sequence[tuple[str, str]], destination: Path
) -> int:
    """Downloads each (object URI, relative path) below `destination`; the bytes written.
    OutsideFolderError before writing a path that escapes it."""
    written = 0
    root = destination.resolve()
    for source_uri, relative in pairs:
        target = destination / relative
        if root not in target.resolve().parents:
            raise OutsideFolderError(source_uri, relative)
        objects.download_file(source_uri, target)
        written += target.stat().st_size
    return written


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _uploaded(uri: str, info: ObjectInfo, path: Path) -> Uploaded:
    return Uploaded(uri, info.size, info.etag, _sha256(path))


def upload_tree_as_tarball(objects: ObjectStore, folder: Path, uri: str) -> list[Uploaded]:
    """Packs `folder`'s contents as a gzip tar (paths relative to it) and uploads it to `uri`."""
    with tempfile.TemporaryDirectory(prefix="sagebox-artifact-") as scratch:
        archive = pack_folder(folder, Path(scratch) / "artifact.tar.gz")
        info = objects.upload_file(archive, uri, content_type="application/x-tar")
        return [_uploaded(uri, info, archive)]


def upload_tree(objects: ObjectStore, folder: Path, uri_prefix: str) -> list[Uploaded]:
    """Uploads every file of `folder` below `uri_prefix` (OutputDataConfig CompressionType NONE)."""
    done = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            uri = f"{uri_prefix.rstrip('/')}/{path.relative_to(folder)}"
            done.append(_uploaded(uri, objects.upload_file(path, uri), path))
    return done


def merge_folders(folders: Sequence[Path], destination: Path) -> Path:
    """Copies every folder's files into `destination`; on a name clash the earlier folder's file stays."""
    destination.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            target = destination / path.relative_to(folder)
            if path.is_dir() or target.exists():
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                continue  # an earlier folder has a file where this one has a folder
            shutil.copy2(path, target)
    return destination


def upload_merged_trees(
    objects: ObjectStore, folders: Sequence[Path], uri: str, *, compress: bool
) -> list[Uploaded]:
    """Uploads several hosts' folders as one tree: a gzip tar at `uri`, or files below it."""
    if len(folders) == 1:
        if compress:
            return upload_tree_as_tarball(objects, folders[0], uri)
        return upload_tree(objects, folders[0], uri)
    with tempfile.TemporaryDirectory(prefix="sagebox-merged-") as scratch:
        merged = merge_folders(folders, Path(scratch) / "merged")
        if compress:
            return upload_tree_as_tarball(objects, merged, uri)
        return upload_tree(objects, merged, uri)
