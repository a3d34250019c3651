"""The processing job's state machine, applied to its stored record.

ProcessingJobStatus: InProgress -> Completed | Failed, or InProgress -> Stopping -> Stopped.
A job that outlives StoppingCondition.MaxRuntimeInSeconds is stopped: it ends Stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sagebox.store import ResourceRecord

TERMINAL = ("Completed", "Failed", "Stopped")


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def touch(record: ResourceRecord, now: float) -> None:
    record.document["LastModifiedTime"] = now
    record.last_modified_time = to_datetime(now)


def advance(record: ResourceRecord, status: str, now: float) -> None:
    record.status = status
    record.document["ProcessingJobStatus"] = status
    if status in TERMINAL:
        record.document["ProcessingEndTime"] = now
    touch(record, now)


def fail(record: ResourceRecord, reason: str, now: float) -> None:
    record.document["FailureReason"] = reason[:1024]
    advance(record, "Failed", now)


def internal(record: ResourceRecord) -> dict[str, Any]:
    """sagebox's own bookkeeping inside the document (never serialized to clients)."""
    return record.document.setdefault("_sagebox", {})
