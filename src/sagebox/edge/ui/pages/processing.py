"""Processing jobs: list and detail through the shared job pages; a Clarify or Model Monitor
job's page also shows its report (edge/ui/reports.py) from the files in its outputs, with
links to every output file in the S3 browser."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.pages import PageContext
from sagebox.edge.ui.pages.job_pages import JobKind, job_family
from sagebox.edge.ui.pages.s3 import _objects, _store_call
from sagebox.edge.ui.reports import REPORT_FILES, report_of
from sagebox.services.logs import PROCESSING_GROUP

OUTPUT_FILES = 200  # listed per output
MAX_REPORT_BYTES = 16 * 1024 * 1024


def _read(objects: Any, bucket: str, key: str) -> dict[str, Any] | None:
    info, chunks = objects.get_object(bucket, key)
    if info.size > MAX_REPORT_BYTES:
        return None
    try:
        found = json.loads(b"".join(chunks))
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


async def report(ctx: PageContext, described: dict[str, Any]) -> dict[str, Any]:
    """The job's output files and, once it has ended, the report they hold."""
    objects = _objects(ctx)
    files: list[dict[str, Any]] = []
    documents: dict[str, dict[str, Any]] = {}
    ended = described.get("ProcessingJobStatus") not in ("InProgress", "Stopping")
    for output in (described.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        uri = (output.get("S3Output") or {}).get("S3Uri", "")
        if not uri.startswith("s3://"):
            continue
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        try:
            page = await _store_call(
                objects.list_objects, bucket, prefix=prefix, max_keys=OUTPUT_FILES
            )
        except ApiFailure:
            continue
        for item in page.objects:
            name = item.key.rsplit("/", 1)[-1]
            folder = item.key.rsplit("/", 1)[0] + "/" if "/" in item.key else ""
            files.append(
                {
                    "output": output.get("OutputName", ""),
                    "uri": f"s3://{bucket}/{item.key}",
                    "size": item.size,
                    "browse": f"/ui/s3/{quote(bucket, safe='')}?prefix={quote(folder, safe='')}",
                    "download": f"/ui/s3/{quote(bucket, safe='')}/download?key={quote(item.key, safe='')}",
                }
            )
            if ended and name in REPORT_FILES and name not in documents:
                found = await _store_call(_read, objects, bucket, item.key)
                if found is not None:
                    documents[name] = found
    return {"report": report_of(documents), "output_files": files}


PAGES = job_family(
    JobKind(
        "ProcessingJob",
        "Processing jobs",
        "processing-jobs",
        PROCESSING_GROUP,
        "ProcessingEndTime",
        extras=report,
    ),
    "Processing",
)
