"""Small file helpers of the local backend: atomic JSON documents, chunked copies."""

from __future__ import annotations

import json
import os
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
