"""How the console's templates show values: API timestamps, nested members, status colours."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

STATUS_CLASSES = {
    "good": ("Completed", "InService", "Succeeded", "Approved", "Executed"),
    "busy": (
        "InProgress",
        "Creating",
        "Updating",
        "Stopping",
        "Starting",
        "Pending",
        "Executing",
        "SystemUpdating",
        "RollingBack",
        "PendingManualApproval",
    ),
    "bad": ("Failed", "Rejected", "OutOfService", "Deleting", "Stopped"),
}


def when(value: Any) -> str:
    """Epoch seconds (as the API serializes timestamps) as UTC text."""
    if value is None or value == "":
        return ""
    try:
        moment = datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def dig(row: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(row, Mapping):
            row = row.get(part)
        elif isinstance(row, list) and part.isdigit() and int(part) < len(row):
            row = row[int(part)]
        else:
            return None
    return row


def status_class(status: Any) -> str:
    for name, statuses in STATUS_CLASSES.items():
        if status in statuses:
            return name
    return "plain"
