"""Job log capture: each line escaped as SageMaker's CloudWatch logs show it, kept as JSON lines.

SageMaker's log pipeline writes control characters in octal, rsyslog style: a tab
becomes "#011". Built-in algorithms' published metric regexes are written against
that text, so metrics are extracted from the escaped line, exactly as there.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO

_ESCAPES = {code: f"#{code:03o}" for code in range(32) if code not in (10,)}


def escape_line(text: str) -> str:
    """Control characters as #ooo (tab -> #011), as SageMaker's logs show them."""
    return text.translate(_ESCAPES)


class LogWriter:
    """Appends log events ({"timestamp": ms, "message": str}) to a JSON Lines file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, message: str, timestamp: float | None = None) -> None:
        event = {"timestamp": int((timestamp or time.time()) * 1000), "message": message}
        with self._lock:
            self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def append_event(path: Path, message: str, timestamp: float | None = None) -> None:
    """Adds one event to a log file (a line sagebox itself logs for a job)."""
    writer = LogWriter(path)
    try:
        writer.write(message, timestamp)
    finally:
        writer.close()


def read_events(path: Path) -> list[dict[str, object]]:
    """Every event of a log file, oldest first; an absent file has none."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_last_events(path: Path, count: int) -> tuple[int, list[dict[str, object]]]:
    """How many events a log file has, and its last `count` events, oldest first: only
    those are parsed (a page's log tail of a 10,000-line log parses 200 lines, not all)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0, []
    lines = [line for line in data.split(b"\n") if line.strip()]
    chosen = lines[max(0, len(lines) - count) :] if count > 0 else []
    return len(lines), [json.loads(line) for line in chosen]


def last_event_timestamp(path: Path, window: int = 64 * 1024) -> int | None:
    """The timestamp of a log file's last event, read from its end (a long log is not read
    whole); None when it has none."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - window))
            lines = [line for line in handle.read().splitlines() if line.strip()]
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return int(json.loads(line)["timestamp"])
        except (ValueError, KeyError, TypeError):
            continue  # the first line of the window may be cut
    events = read_events(path) if size > window else []
    return int(events[-1]["timestamp"]) if events else None
