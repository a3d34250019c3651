"""Training jobs: the list, a job's page (metric curves, log tail, live while it runs), Stop."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from sagebox.edge.ui.formatting import when
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum
from sagebox.services.logs import TRAINING_GROUP
from sagebox.services.training.metric_history import MetricHistories, history_key

LOG_TAIL_LINES = 200
RUNNING = ("InProgress", "Stopping")
# The curves of recently viewed jobs: a polled page reads only the lines logged since.
HISTORIES = MetricHistories(tail=LOG_TAIL_LINES)

LIST = ListPage(
    path="/ui/training-jobs",
    title="Training jobs",
    operation="ListTrainingJobs",
    member="TrainingJobSummaries",
    columns=(
        Column("Name", "TrainingJobName", link="/ui/training-jobs/{TrainingJobName}"),
        Column("Status", "TrainingJobStatus", "status"),
        Column("Secondary status", "SecondaryStatus"),
        Column("Created", "CreationTime", "time"),
        Column("Ended", "TrainingEndTime", "time"),
    ),
    statuses=model_enum("ListTrainingJobs", "StatusEquals"),
    sorts=model_enum("ListTrainingJobs", "SortBy"),
)


async def log_events(
    ctx: PageContext, group: str, job: str, since: int | None = None
) -> list[dict[str, Any]]:
    """The log events of a job's streams (FilterLogEvents, paged), oldest first; from the
    timestamp `since` (epoch milliseconds) on, when given."""
    events: list[dict[str, Any]] = []
    token = None
    while True:
        answer = await ctx.api(
            "FilterLogEvents",
            "logs",
            logGroupName=group,
            logStreamNamePrefix=f"{job}/",
            startTime=since,
            nextToken=token,
        )
        events += answer.get("events", [])
        token = answer.get("nextToken")
        if not token:
            return events


async def live_state(ctx: PageContext, name: str) -> dict[str, Any]:
    """What the page shows and refreshes: status, metric curves, final metrics, log tail."""
    described = await ctx.api("DescribeTrainingJob", TrainingJobName=name)
    definitions = described.get("AlgorithmSpecification", {}).get("MetricDefinitions") or []
    key = history_key(described["CreationTime"], definitions)
    # Only what was logged since this job's page was last answered is read again.
    events = await log_events(ctx, TRAINING_GROUP, name, HISTORIES.since(name, key))
    history = await run_in_threadpool(HISTORIES.advance, name, key, definitions, events)
    curves = history.curves
    return {
        "name": name,
        "status": described["TrainingJobStatus"],
        "secondaryStatus": described.get("SecondaryStatus"),
        "running": described["TrainingJobStatus"] in RUNNING,
        "finalMetrics": described.get("FinalMetricDataList", []),
        "metrics": {
            # each value in the order logged; the chart's x is its index (step)
            metric: {"value": [v for _, v in points]}
            for metric, points in curves.items()
        },
        "log": history.tail,
        "transitions": [
            {
                "status": t["Status"],
                "started": when(t.get("StartTime")),
                "message": t.get("StatusMessage", ""),
            }
            for t in described.get("SecondaryStatusTransitions", [])
        ],
        "trainingTime": described.get("TrainingTimeInSeconds"),
        "failureReason": described.get("FailureReason"),
        "described": described,
    }


async def job_page(ctx: PageContext) -> Response:
    state = await live_state(ctx, ctx.params["name"])
    described = state.pop("described")
    return ctx.render("training_job.html", job=described, state=state)


async def live(ctx: PageContext) -> Response:
    state = await live_state(ctx, ctx.params["name"])
    state.pop("described")
    return JSONResponse(state)


async def stop(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    await ctx.api("StopTrainingJob", TrainingJobName=name)
    return ctx.redirect(f"/ui/training-jobs/{name}", msg=f"StopTrainingJob sent for {name}.")


PAGES = FamilyPages(
    "Training",
    "/ui/training-jobs",
    lists=(LIST,),
    routes=(
        PageRoute("/ui/training-jobs/{name}", job_page),
        PageRoute("/ui/training-jobs/{name}/live", live),
        PageRoute("/ui/training-jobs/{name}/stop", stop, methods=("POST",)),
    ),
)
