"""Batch transform jobs: list and detail through the shared job pages."""

from __future__ import annotations

from sagebox.edge.ui.pages.job_pages import JobKind, job_family
from sagebox.services.logs import TRANSFORM_GROUP

PAGES = job_family(
    JobKind(
        "TransformJob",
        "Batch transform jobs",
        "transform-jobs",
        TRANSFORM_GROUP,
        "TransformEndTime",
    ),
    "Transform",
)
