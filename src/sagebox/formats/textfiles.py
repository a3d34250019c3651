"""Opening text data files the way SageMaker channels deliver them.

A channel file may be gzip-compressed whatever its name says (``CompressionType:
Gzip`` on the channel, or simply a ``.gz`` suffix); both are read transparently.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open a data file for reading bytes, decompressing gzip transparently."""
    if is_gzip(path):
        return gzip.GzipFile(path, "rb")
    return open(path, "rb")


def read_text(path: Path) -> str:
    """The whole file decoded as UTF-8 (gzip transparently); raises UnicodeDecodeError."""
    with open_binary(path) as handle:
        return handle.read().decode("utf-8")


def display_name(path: Path, root: Path | None) -> str:
    """How a file is named in error messages: relative to ``root`` when inside it."""
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


PathArgument = Path | str | Sequence[Path] | Sequence[str]
"""One file, or several in the order they are read."""


def as_path_list(paths: PathArgument) -> list[Path]:
    """Normalise a single path or a sequence of paths to a list of ``Path``."""
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(p) for p in paths]
