"""Training jobs: the list, a job's page (metric curves, log tail, live while it runs), Stop."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from sagebox.edge.ui.curves import thin
from sagebox.edge.ui.formatting import status_class, when
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum
from sagebox.services.logs import TRAINING_GROUP
from sagebox.services.training.metric_history import MetricHistories, history_key

LOG_TAIL_LINES = 200
MAX_QUERIES = 100  # BatchGetMetrics takes at most 100 queries
RUNNING = ("InProgress", "Stopping")
# The curves of recently viewed jobs: a polled page reads only the lines logged since.
HISTORIES = MetricHistories(tail=LOG_TAIL_LINES)


class EndedJobs:
    """The curves and log tail of the most recently viewed ended jobs, by ARN and
    LastModifiedTime (a job that changes again gets a new entry)."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = capacity
        self._jobs: OrderedDict[Any, tuple[dict[str, list[float]], list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[dict[str, list[float]], list[str]] | None:
        with self._lock:
            found = self._jobs.get(key)
            if found is not None:
                self._jobs.move_to_end(key)
            return found

    def put(self, key: Any, value: tuple[dict[str, list[float]], list[str]]) -> None:
        with self._lock:
            self._jobs[key] = value
            while len(self._jobs) > self._capacity:
                self._jobs.popitem(last=False)


ENDED = EndedJobs()

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


async def stored_curves(
    ctx: PageContext, described: dict[str, Any]
) -> dict[str, list[float]] | None:
    """An ended job's curves as SageMaker keeps them: BatchGetMetrics on the job's ARN, one
    value a step (the series its trial component got from the log when the job ended).
    None while they are not all there yet (the job has just ended)."""
    names = [m["MetricName"] for m in described.get("FinalMetricDataList", [])][:MAX_QUERIES]
    if not names:
        return None
    answer = await ctx.api(
        "BatchGetMetrics",
        "sagemaker-metrics",
        MetricQueries=[
            {
                "MetricName": metric,
                "ResourceArn": described["TrainingJobArn"],
                "MetricStat": "Last",
                "Period": "IterationNumber",
                "XAxisType": "IterationNumber",
            }
            for metric in names
        ],
    )
    results = answer.get("MetricQueryResults", [])
    if len(results) != len(names) or any(
        r.get("Status") != "Complete" or not r.get("MetricValues") for r in results
    ):
        return None
    return {
        metric: list(result["MetricValues"]) for metric, result in zip(names, results, strict=True)
    }


async def log_tail(ctx: PageContext, group: str, job: str, lines: int) -> list[str]:
    """The last `lines` events of a job's streams (GetLogEvents from the end of each)."""
    streams = await ctx.api(
        "DescribeLogStreams", "logs", logGroupName=group, logStreamNamePrefix=f"{job}/"
    )
    events: list[dict[str, Any]] = []
    for stream in streams.get("logStreams", []):
        answer = await ctx.api(
            "GetLogEvents",
            "logs",
            logGroupName=group,
            logStreamName=stream["logStreamName"],
            limit=lines,
        )
        events += answer.get("events", [])
    events.sort(key=lambda e: e["timestamp"])
    return [str(e["message"]) for e in events[-lines:]]


async def live_state(ctx: PageContext, name: str) -> dict[str, Any]:
    """What the page shows and refreshes: status, metric curves, final metrics, log tail."""
    described = await ctx.api("DescribeTrainingJob", TrainingJobName=name)
    running = described["TrainingJobStatus"] in RUNNING
    # An ended job's curves and log no longer change: kept for its next views.
    ended_key = (described["TrainingJobArn"], described.get("LastModifiedTime"))
    ended = None if running else ENDED.get(ended_key)
    if ended is None and not running:
        stored = await stored_curves(ctx, described)
        if stored is not None:
            ended = (stored, await log_tail(ctx, TRAINING_GROUP, name, LOG_TAIL_LINES))
            ENDED.put(ended_key, ended)
    if ended is not None:
        values, tail = ended
    else:
        # Running (or just ended): the curves from the log, reading only what was logged
        # since this job's page was last answered.
        definitions = described.get("AlgorithmSpecification", {}).get("MetricDefinitions") or []
        key = history_key(described["CreationTime"], definitions)
        events = await log_events(ctx, TRAINING_GROUP, name, HISTORIES.since(name, key))
        history = await run_in_threadpool(HISTORIES.advance, name, key, definitions, events)
        values = {metric: [v for _, v in points] for metric, points in history.curves.items()}
        tail = history.tail
    return {
        "name": name,
        "status": described["TrainingJobStatus"],
        "statusClass": status_class(described["TrainingJobStatus"]),
        "secondaryStatus": described.get("SecondaryStatus"),
        "running": running,
        "finalMetrics": described.get("FinalMetricDataList", []),
        # each metric's curve as the chart draws it (a long one thinned to the chart's
        # width, curves.py): the steps, their values, and how many steps there are
        "metrics": {metric: _curve(series) for metric, series in values.items()},
        "log": tail,
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


def _curve(series: list[float]) -> dict[str, Any]:
    steps, kept = thin(series)
    return {"step": steps, "value": kept, "count": len(series)}


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
