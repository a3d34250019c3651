"""Processing jobs: list and detail through the shared job pages."""

from __future__ import annotations

from sagebox.edge.ui.pages.job_pages import JobKind, job_family
from sagebox.services.logs import PROCESSING_GROUP

PAGES = job_family(
    JobKind(
        "ProcessingJob", "Processing jobs", "processing-jobs", PROCESSING_GROUP, "ProcessingEndTime"
    ),
    "Processing",
)
