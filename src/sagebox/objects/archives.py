"""model.tar.gz and output.tar.gz: packing a folder, and unpacking one safely.

SageMaker archives hold a folder's contents with paths relative to it (no leading
folder). Unpacking refuses members that would land outside the destination (absolute
paths, "..", links pointing out) and anything that is not a file, folder or link.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the destination, or is a device."""


def pack_folder(folder: Path, archive: Path) -> Path:
    """Writes `folder`'s contents (sorted, paths relative to it) as a gzip tar to `archive`."""
    folder = Path(folder)
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    temp = archive.with_name(f".{archive.name}.part")
    try:
        # gzip's own default level: as small as level 9 for model files, several times faster.
        with tarfile.open(temp, "w:gz", compresslevel=6) as tar:
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.resolve() == archive.resolve() or path == temp:
                        continue
                    tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
        os.replace(temp, archive)
    finally:
        temp.unlink(missing_ok=True)
    return archive


def unpack_archive(archive: Path, destination: Path) -> list[Path]:
    """Extracts a (gzip) tar into `destination`; the files written, in archive order."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    root = destination.resolve()
    written: list[Path] = []
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            _check_member(member, root)
        tar.extractall(root, members=members, filter="data")
        for member in members:
            if member.isfile():
                written.append(root / member.name)
    return written


def _check_member(member: tarfile.TarInfo, root: Path) -> None:
    name = member.name
    target = (root / name).resolve()
    if os.path.isabs(name) or not _inside(target, root):
        raise UnsafeArchiveError(f"archive member {name!r} would be written outside {root}")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchiveError(f"archive member {name!r} is not a regular file, folder or link")
    if member.issym():
        link = (target.parent / member.linkname).resolve()
        if os.path.isabs(member.linkname) or not _inside(link, root):
            raise UnsafeArchiveError(f"archive link {name!r} points outside {root}")
    if member.islnk() and not _inside((root / member.linkname).resolve(), root):
        raise UnsafeArchiveError(f"archive hard link {name!r} points outside {root}")


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
