"""Tuning jobs: the list and a job's page: trials sortable by the objective (the API's sort), the best job, objective per trial."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sagebox.edge.ui import parallel
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

TRIALS_PAGE = 100
TRIAL_SORTS = model_enum("ListTrainingJobsForHyperParameterTuningJob", "SortBy")

LIST = ListPage(
    path="/ui/tuning-jobs",
    title="Hyperparameter tuning jobs",
    operation="ListHyperParameterTuningJobs",
    member="HyperParameterTuningJobSummaries",
    columns=(
        Column(
            "Name",
            "HyperParameterTuningJobName",
            link="/ui/tuning-jobs/{HyperParameterTuningJobName}",
        ),
        Column("Status", "HyperParameterTuningJobStatus", "status"),
        Column("Strategy", "Strategy"),
        Column("Completed", "TrainingJobStatusCounters.Completed"),
        Column("In progress", "TrainingJobStatusCounters.InProgress"),
        Column("Created", "CreationTime", "time"),
    ),
    statuses=model_enum("ListHyperParameterTuningJobs", "StatusEquals"),
    sorts=model_enum("ListHyperParameterTuningJobs", "SortBy"),
)


async def job_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    described = await ctx.api("DescribeHyperParameterTuningJob", HyperParameterTuningJobName=name)
    objective = described["HyperParameterTuningJobConfig"].get(
        "HyperParameterTuningJobObjective", {}
    )
    # The objective's own direction first, as SageMaker's console shows the best trial on top.
    default_order = "Ascending" if objective.get("Type") == "Minimize" else "Descending"
    sort = ctx.query("sort", "FinalObjectiveMetricValue")
    sort = sort if sort in TRIAL_SORTS else "FinalObjectiveMetricValue"
    order = ctx.query("order", default_order)
    order = order if order in ("Ascending", "Descending") else default_order
    trials: list[dict[str, Any]] = []
    token = ctx.query("token") or None
    answer = await ctx.api(
        "ListTrainingJobsForHyperParameterTuningJob",
        HyperParameterTuningJobName=name,
        SortBy=sort,
        SortOrder=order,
        MaxResults=TRIALS_PAGE,
        NextToken=token,
    )
    trials = answer.get("TrainingJobSummaries", [])
    best = (described.get("BestTrainingJob") or {}).get("TrainingJobName")
    tuned = sorted({key for trial in trials for key in trial.get("TunedHyperParameters", {})})
    # Objective per trial, in the order the trials were created.
    chronological = sorted(
        (t for t in trials if t.get("FinalHyperParameterTuningJobObjectiveMetric")),
        key=lambda t: t["CreationTime"],
    )
    chart = {
        "name": f"objective: {objective.get('MetricName', '')}",
        "x": list(range(1, len(chronological) + 1)),
        "y": [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in chronological],
        "xLabel": "trial (creation order)",
        "points": True,
    }
    ranges = described["HyperParameterTuningJobConfig"].get("ParameterRanges", {})
    scaling = {
        r["Name"]: r.get("ScalingType", "Auto")
        for kind in ("ContinuousParameterRanges", "IntegerParameterRanges")
        for r in ranges.get(kind, [])
    }
    coordinates = parallel.layout(trials, tuned, objective, scaling, best)
    return ctx.render(
        "tuning_job.html",
        coordinates=coordinates,
        job=described,
        trials=trials,
        best=best,
        tuned=tuned,
        objective=objective,
        sort=sort,
        order=order,
        sorts=TRIAL_SORTS,
        next_token=answer.get("NextToken"),
        chart=chart,
        running=described["HyperParameterTuningJobStatus"] in ("InProgress", "Stopping"),
    )


async def stop(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    await ctx.api("StopHyperParameterTuningJob", HyperParameterTuningJobName=name)
    return ctx.redirect(
        f"/ui/tuning-jobs/{name}", msg=f"StopHyperParameterTuningJob sent for {name}."
    )


PAGES = FamilyPages(
    "Tuning",
    "/ui/tuning-jobs",
    lists=(LIST,),
    routes=(
        PageRoute("/ui/tuning-jobs/{name}", job_page),
        PageRoute("/ui/tuning-jobs/{name}/stop", stop, methods=("POST",)),
    ),
)
