"""The overview: what is running now and how many resources each family holds."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sagebox.edge.ui.pages import FamilyPages, PageContext, PageRoute
from sagebox.services.families import FAMILIES

# (title, List operation, summaries member, name member, status member, console path)
RUNNING = (
    (
        "Training job",
        "ListTrainingJobs",
        "TrainingJobSummaries",
        "TrainingJobName",
        "TrainingJobStatus",
        "/ui/training-jobs/",
    ),
    (
        "Tuning job",
        "ListHyperParameterTuningJobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
        "/ui/tuning-jobs/",
    ),
    (
        "Processing job",
        "ListProcessingJobs",
        "ProcessingJobSummaries",
        "ProcessingJobName",
        "ProcessingJobStatus",
        "/ui/processing-jobs/",
    ),
    (
        "Transform job",
        "ListTransformJobs",
        "TransformJobSummaries",
        "TransformJobName",
        "TransformJobStatus",
        "/ui/transform-jobs/",
    ),
    (
        "AutoML job",
        "ListAutoMLJobs",
        "AutoMLJobSummaries",
        "AutoMLJobName",
        "AutoMLJobStatus",
        "/ui/automl-jobs/",
    ),
)
LIVE_ENDPOINT_STATUSES = ("Creating", "Updating", "SystemUpdating", "RollingBack", "InService")
# The console page of each family's list, where it has one.
FAMILY_PATHS = {
    "TrainingJob": "/ui/training-jobs",
    "HyperParameterTuningJob": "/ui/tuning-jobs",
    "ProcessingJob": "/ui/processing-jobs",
    "TransformJob": "/ui/transform-jobs",
    "Model": "/ui/models",
    "EndpointConfig": "/ui/endpoint-configs",
    "Endpoint": "/ui/endpoints",
    "ModelPackageGroup": "/ui/model-package-groups",
    "Pipeline": "/ui/pipelines",
    "Experiment": "/ui/experiments",
    "AutoMLJob": "/ui/automl-jobs",
    "MonitoringSchedule": "/ui/monitoring-schedules",
}


async def home(ctx: PageContext) -> Response:
    running = []
    for title, operation, member, name_member, status_member, path in RUNNING:
        answer = await ctx.api(operation, StatusEquals="InProgress", MaxResults=100)
        for row in answer.get(member, []):
            running.append(
                {
                    "kind": title,
                    "name": row[name_member],
                    "status": row[status_member],
                    "since": row.get("CreationTime"),
                    "href": path + row[name_member],
                }
            )
    for status in LIVE_ENDPOINT_STATUSES:
        answer = await ctx.api("ListEndpoints", StatusEquals=status, MaxResults=100)
        for row in answer.get("Endpoints", []):
            running.append(
                {
                    "kind": "Endpoint",
                    "name": row["EndpointName"],
                    "status": row["EndpointStatus"],
                    "since": row.get("CreationTime"),
                    "href": "/ui/endpoints/" + row["EndpointName"],
                }
            )
    platform = ctx.api.platform
    counts = await run_in_threadpool(
        lambda: [
            (f.kind, f.noun, platform.service(f).count(), FAMILY_PATHS.get(f.kind))
            for f in FAMILIES
            if hasattr(platform.service(f), "count")
        ]
    )
    return ctx.render(
        "home.html", running=running, counts=counts, endpoint=str(ctx.request.base_url).rstrip("/")
    )


PAGES = FamilyPages("Overview", "/ui/", routes=(PageRoute("/ui/", home),))
