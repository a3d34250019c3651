"""The training job's state machine, applied to its stored record.

TrainingJobStatus: InProgress -> Completed | Failed | Stopping -> Stopped.
SecondaryStatus: Starting -> Downloading -> Training -> Uploading -> Completed, or
Failed / Stopped / MaxRuntimeExceeded, each entry kept in SecondaryStatusTransitions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sagebox.store import ResourceRecord

TERMINAL = ("Completed", "Failed", "Stopped")

MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped because it exceeded the maximum allowed runtime",
}

# Secondary statuses that end a job, with the primary status each one implies.
_FINAL = {"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped", "MaxRuntimeExceeded": "Stopped"}


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def advance(record: ResourceRecord, secondary: str, now: float, message: str | None = None) -> None:
    """Moves a job to `secondary`, closing the open transition; final ones end the job."""
    document = record.document
    transitions: list[dict[str, Any]] = document.setdefault("SecondaryStatusTransitions", [])
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    entry: dict[str, Any] = {
        "Status": secondary,
        "StartTime": now,
        "StatusMessage": message or MESSAGES.get(secondary, secondary),
    }
    primary = _FINAL.get(secondary)
    if secondary == "Stopping":
        primary = "Stopping"
    if primary in TERMINAL:
        entry["EndTime"] = now
        document["TrainingEndTime"] = now
        started = document.get("TrainingStartTime")
        if started is not None:
            seconds = max(0, round(now - started))
            document["TrainingTimeInSeconds"] = seconds
            document["BillableTimeInSeconds"] = seconds
    transitions.append(entry)
    document["SecondaryStatus"] = secondary
    if primary is not None:
        document["TrainingJobStatus"] = primary
        record.status = primary
    touch(record, now)


def touch(record: ResourceRecord, now: float) -> None:
    record.document["LastModifiedTime"] = now
    record.last_modified_time = to_datetime(now)


def fail(record: ResourceRecord, reason: str, now: float) -> None:
    record.document["FailureReason"] = reason[:1024]
    advance(record, "Failed", now)


def internal(record: ResourceRecord) -> dict[str, Any]:
    """sagebox's own bookkeeping inside the document (never serialized to clients)."""
    return record.document.setdefault("_sagebox", {})
