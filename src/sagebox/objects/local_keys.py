"""How the local backend lays S3 keys out as files, so that the tree stays browsable.

An object's bytes live at `<bucket folder>/<key>`, "/" separating folders. S3 keys a
file tree cannot hold as-is use reserved names that start with ".sagebox-":

- a key that is also the folder of other keys ("a" next to "a/b"): its bytes live in
  `a/.sagebox-object` (and move back to the file `a` once the folder empties);
- a folder-marker key ending in "/" ("a/"): its bytes live in `a/.sagebox-folder`;
- segments no file system can name: "" (from "a//b" or a leading "/") is stored as
  `.sagebox-empty`, "." as `.sagebox-dot`, ".." as `.sagebox-dotdot`;
- a segment that itself starts with ".sagebox-" is stored as `.sagebox-literal-<segment>`.

So every key, "../../etc/passwd" included, maps inside its bucket folder. Limits: a key
holds at most 1024 UTF-8 bytes (S3's limit), each segment at most 250 (the file-name
limit less room for the metadata sidecar's ".json"), and its encoded path at most 2048
(half of Linux's 4096-byte path limit, the rest left for the store's root, the bucket and
the reserved names): a 1024-byte key of "../" segments encodes to 5 KB. Longer ones are
KeyTooLongError, refused before any folder is made.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sagebox.objects.errors import InvalidArgument, KeyTooLongError

RESERVED_PREFIX = ".sagebox-"
OBJECT_FILE = ".sagebox-object"
FOLDER_FILE = ".sagebox-folder"
_LITERAL = ".sagebox-literal-"
_SPECIAL = {"": ".sagebox-empty", ".": ".sagebox-dot", "..": ".sagebox-dotdot"}
_SPECIAL_NAMES = {name: segment for segment, name in _SPECIAL.items()}
MAX_KEY_BYTES = 1024
MAX_NAME_BYTES = 250
MAX_ENCODED_BYTES = 2048
# Linux's PATH_MAX; a path the store makes must stay under it with room for a reserved name.
MAX_PATH_BYTES = 4096


def encode_segment(segment: str) -> str:
    """The file or folder name that holds one "/"-separated segment of a key."""
    special = _SPECIAL.get(segment)
    if special is not None:
        return special
    if segment.startswith(RESERVED_PREFIX):
        return _LITERAL + segment
    return segment


def decode_name(name: str) -> str | None:
    """The key segment a file or folder name stands for; None for the reserved markers."""
    if not name.startswith(RESERVED_PREFIX):
        return name
    if name.startswith(_LITERAL):
        return name[len(_LITERAL) :]
    return _SPECIAL_NAMES.get(name)


@dataclass(frozen=True)
class KeyPath:
    """A key as encoded folder names plus the file name; leaf None marks a folder marker."""

    folders: tuple[str, ...]
    leaf: str | None

    def folder(self, base: Path) -> Path:
        return base.joinpath(*self.folders)


def key_path(key: str) -> KeyPath:
    """The encoded path of `key`; InvalidArgument or KeyTooLongError when it cannot be stored."""
    if not key:
        raise InvalidArgument("An object key must not be empty.")
    if "\x00" in key:
        raise InvalidArgument("Object keys must not contain the NUL character.", resource=_shown(key))
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise KeyTooLongError(resource=_shown(key))
    *folders, last = key.split("/")
    encoded = [encode_segment(segment) for segment in folders]
    leaf = None if last == "" else encode_segment(last)
    sizes = [len(name.encode("utf-8", "surrogatepass")) for name in [*encoded, leaf or ""]]
    if max(sizes) > MAX_NAME_BYTES:
        raise KeyTooLongError(
            f"Your key is too long: the local object store holds at most {MAX_NAME_BYTES} "
            "bytes between two '/' of a key.",
            resource=_shown(key),
        )
    if sum(sizes) + len(sizes) > MAX_ENCODED_BYTES:
        raise KeyTooLongError(
            "Your key is too long: the local object store keeps keys as folder paths of at most "
            f"{MAX_ENCODED_BYTES} bytes, and empty, '.' and '..' segments take 12 to 15 bytes each.",
            resource=_shown(key),
        )
    return KeyPath(tuple(encoded), leaf)


def _shown(key: str) -> str:
    return key if len(key) <= 200 else key[:200] + "..."


def locate(base: Path, path: KeyPath) -> Path | None:
    """The file holding the key's bytes, or None when the key does not exist."""
    folder = path.folder(base)
    if path.leaf is None:
        marker = folder / FOLDER_FILE
        return marker if marker.is_file() else None
    candidate = folder / path.leaf
    if candidate.is_file():
        return candidate
    nested = candidate / OBJECT_FILE
    return nested if nested.is_file() else None


def prepare(base: Path, path: KeyPath, scratch: Path) -> Path:
    """The file to write the key's bytes to, its folders made; call under the store's lock.

    A file standing where a folder is needed (object "a" when "a/b" arrives) moves into
    that folder as its `.sagebox-object`. A path too long for the file system is
    KeyTooLongError before any folder is made.
    """
    longest = base.joinpath(*path.folders, path.leaf or FOLDER_FILE, OBJECT_FILE)
    if len(os.fsencode(longest)) >= MAX_PATH_BYTES:
        raise KeyTooLongError(
            "Your key is too long for the local object store's folder on this file system.",
            resource=_shown("/".join(path.folders)),
        )
    folder = base
    for name in path.folders:
        folder = folder / name
        _ensure_folder(folder, scratch)
    if path.leaf is None:
        return folder / FOLDER_FILE
    candidate = folder / path.leaf
    return candidate / OBJECT_FILE if candidate.is_dir() else candidate


def _ensure_folder(folder: Path, scratch: Path) -> None:
    if folder.is_dir():
        return
    if folder.exists():
        moving = scratch / f"move-{uuid.uuid4().hex}"
        os.replace(folder, moving)
        folder.mkdir()
        os.replace(moving, folder / OBJECT_FILE)
    else:
        folder.mkdir()


def prune(base: Path, removed: Path, scratch: Path) -> None:
    """Tidies up after `removed` was deleted; call under the store's lock.

    Empty folders up to `base` go away, and a folder left holding only its
    `.sagebox-object` becomes a plain file again.
    """
    folder = removed.parent
    while folder != base and base in folder.parents:
        try:
            entries = os.listdir(folder)
            if not entries:
                folder.rmdir()
            elif entries == [OBJECT_FILE]:
                moving = scratch / f"move-{uuid.uuid4().hex}"
                os.replace(folder / OBJECT_FILE, moving)
                folder.rmdir()
                os.replace(moving, folder)
                return
            else:
                return
        except FileNotFoundError:
            pass
        folder = folder.parent
