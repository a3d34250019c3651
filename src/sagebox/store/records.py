"""One stored resource as the store hands it out, and its reading from a table row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa


@dataclass
class ResourceRecord:
    """One stored SageMaker resource: its identity, state and Describe document."""

    kind: str
    name: str
    arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime
    document: dict[str, Any] = field(default_factory=dict)
    parent_arn: str | None = None


def record_of(row: sa.Row[Any]) -> ResourceRecord:
    """The record in a row selected with every column of ``resources``."""
    return ResourceRecord(
        kind=row.kind,
        name=row.name,
        arn=row.arn,
        status=row.status,
        creation_time=row.creation_time,
        last_modified_time=row.last_modified_time,
        document=row.document,
        parent_arn=row.parent_arn,
    )
