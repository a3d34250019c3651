"""Small file helpers of the local backend: atomic JSON documents, chunked copies."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from sagebox.objects.checksums import CHUNK_SIZE, StreamDigest


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Writes a JSON document atomically (temporary file in the same folder, then rename)."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temp.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    os.replace(temp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def stream_into(source: bytes | BinaryIO, out: BinaryIO, digest: StreamDigest) -> None:
    """Copies `source` to `out` in chunks, feeding `digest`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        out.write(data)
        digest.update(data)
        return
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            return
        out.write(chunk)
        digest.update(chunk)


def copy_file(source: BinaryIO, out: BinaryIO) -> None:
    """Copies the rest of ``source`` to ``out``, file to file inside the kernel.

    ``os.sendfile`` moves the bytes without bringing them into Python (about half the
    time of a read/write loop for a channel staged into a job folder); where the
    kernel cannot do that for these files, the rest is copied in chunks.
    """
    out.flush()
    source_start, out_start = source.tell(), out.tell()
    size = os.fstat(source.fileno()).st_size
    sent = 0
    try:
        while source_start + sent < size:
            offset = source_start + sent
            count = os.sendfile(out.fileno(), source.fileno(), offset, size - offset)
            if count == 0:
                break
            sent += count
    except OSError:
        pass
    # sendfile moved the descriptors' offsets behind the file objects' backs.
    source.seek(source_start + sent)
    out.seek(out_start + sent)
    shutil.copyfileobj(source, out, CHUNK_SIZE)
