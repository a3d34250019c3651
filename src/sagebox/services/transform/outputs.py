"""One input object's output: written in batch order, uploaded when complete.

Also: matching a multi-record answer back to its records, which JoinSource and
OutputFilter need (one output per input record).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sagebox.services.transform.inputs import InputObject

Upload = Callable[[Path, str], None]


class OutputFile:
    """Batches arrive in any order from the workers and are written in sequence."""

    def __init__(self, item: InputObject, path: Path, uri: str, *, upload: Upload) -> None:
        self.item = item
        self.path = path
        self.uri = uri
        self._upload = upload
        self._lock = threading.Lock()
        self._waiting: dict[int, bytes] = {}
        self._next = 0
        self._total: int | None = None
        self._file: BinaryIO | None = None
        self._done = False

    def deliver(self, sequence: int, data: bytes) -> OutputFile | None:
        """Stores batch `sequence`; returns self once every batch has been written."""
        with self._lock:
            if self._done:
                return None
            self._waiting[sequence] = data
            out = self._open()
            while self._next in self._waiting:
                out.write(self._waiting.pop(self._next))
                self._next += 1
            return self._complete()

    def close_input(self, total: int) -> OutputFile | None:
        """No batch comes after `total`; returns self if all of them are already written."""
        with self._lock:
            self._total = total
            self._open()
            return self._complete()

    def _open(self) -> BinaryIO:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("wb")
        return self._file

    def _complete(self) -> OutputFile | None:
        if self._total is None or self._next < self._total or self._done:
            return None
        self._done = True
        if self._file is not None:
            self._file.close()
        return self

    def finalize(self) -> None:
        """Uploads the complete output and removes the local copy."""
        try:
            self._upload(self.path, self.uri)
        finally:
            self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        with self._lock:
            self._done = True
            self._waiting.clear()
            if self._file is not None:
                self._file.close()
            self.path.unlink(missing_ok=True)


def split_answer(body: bytes, content_type: str | None, count: int) -> list[bytes]:
    """The answer's output for each of `count` records; ValueError if they do not match.

    Line-oriented answers (CSV, JSON Lines, text) give one line per record; an
    application/json answer may be an array, or an object holding one array, with
    one element per record.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if count == 1:
        return [body.rstrip(b"\r\n")]
    if media == "application/json":
        return _json_elements(body, count)
    lines = body.split(b"\n")
    if lines and lines[-1] in (b"", b"\r"):
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if len(lines) != count:
        raise ValueError(
            f"the model answered {len(lines)} lines of {media or 'output'} for {count} records, so "
            "outputs cannot be matched to input records; use BatchStrategy SingleRecord"
        )
    return lines


def _json_elements(body: bytes, count: int) -> list[bytes]:
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"the model's application/json answer is not valid JSON: {exc}") from exc
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if not isinstance(value, list) or len(value) != count:
        raise ValueError(
            f"the model's application/json answer does not hold one element per record ({count}); "
            "use Accept text/csv or application/jsonlines, or BatchStrategy SingleRecord"
        )
    return [json.dumps(element, separators=(",", ":")).encode() for element in value]
