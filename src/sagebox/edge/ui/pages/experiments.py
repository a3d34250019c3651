"""Experiments: the list, and an experiment's runs (trial components) side by side: their
parameters, their metrics' last values, and one chart a metric with a line a run."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

RUNS_PAGE = 20  # runs compared on one page (one DescribeTrialComponent each)
MAX_QUERIES = 100  # BatchGetMetrics takes at most 100 queries

LIST = ListPage(
    path="/ui/experiments",
    title="Experiments",
    operation="ListExperiments",
    member="ExperimentSummaries",
    columns=(
        Column("Name", "ExperimentName", link="/ui/experiments/{ExperimentName}"),
        Column("Display name", "DisplayName"),
        Column("Source", "ExperimentSource.SourceType"),
        Column("Created", "CreationTime", "time"),
    ),
    sorts=model_enum("ListExperiments", "SortBy"),
    name_filter=False,  # ListExperiments has no NameContains
)


def _parameter(value: dict[str, Any]) -> str:
    if "NumberValue" in value:
        return f"{value['NumberValue']:.6g}"
    return str(value.get("StringValue", ""))


async def _curves(
    ctx: PageContext, runs: list[dict[str, Any]], metrics: list[str]
) -> list[dict[str, Any]]:
    """One chart a metric: each run's values a step (BatchGetMetrics), on a shared step axis."""
    queries = [
        (run["TrialComponentName"], metric, run["TrialComponentArn"])
        for metric in metrics
        for run in runs
        if any(m["MetricName"] == metric for m in run.get("Metrics", []))
    ][:MAX_QUERIES]
    if not queries:
        return []
    answer = await ctx.api(
        "BatchGetMetrics",
        "sagemaker-metrics",
        MetricQueries=[
            {"MetricName": metric, "ResourceArn": arn, "MetricStat": "Avg", "Period": "IterationNumber",
             "XAxisType": "IterationNumber"}
            for _, metric, arn in queries
        ],
    )  # fmt: skip
    series: dict[str, dict[str, dict[int, float]]] = {}
    for (run, metric, _), result in zip(
        queries, answer.get("MetricQueryResults", []), strict=False
    ):
        if result.get("Status") == "Complete" and result.get("XAxisValues"):
            points = dict(zip(result["XAxisValues"], result["MetricValues"], strict=True))
            series.setdefault(metric, {})[run] = points
    charts = []
    for metric, by_run in series.items():
        steps = sorted({step for points in by_run.values() for step in points})
        charts.append({
            "name": metric,
            "x": steps,
            "series": [{"label": run, "y": [points.get(s) for s in steps]} for run, points in by_run.items()],
            "xLabel": "step",
        })  # fmt: skip
    return charts


async def experiment_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    experiment = await ctx.api("DescribeExperiment", ExperimentName=name)
    listed = await ctx.api(
        "ListTrialComponents", ExperimentName=name, SortBy="CreationTime", SortOrder="Descending",
        MaxResults=RUNS_PAGE, NextToken=ctx.query("token") or None,
    )  # fmt: skip
    runs = [
        await ctx.api("DescribeTrialComponent", TrialComponentName=s["TrialComponentName"])
        for s in listed.get("TrialComponentSummaries", [])
    ]
    parameters = sorted({key for run in runs for key in run.get("Parameters", {})})
    metrics = sorted({m["MetricName"] for run in runs for m in run.get("Metrics", [])})
    table = [
        {
            "name": run["TrialComponentName"],
            "display": run.get("DisplayName", ""),
            "status": (run.get("Status") or {}).get("PrimaryStatus", ""),
            "parameters": {k: _parameter(v) for k, v in run.get("Parameters", {}).items()},
            "last": {m["MetricName"]: m.get("Last") for m in run.get("Metrics", [])},
        }
        for run in runs
    ]
    return ctx.render(
        "experiment.html", experiment=experiment, runs=table, parameters=parameters, metrics=metrics,
        charts=await _curves(ctx, runs, metrics), next_token=listed.get("NextToken"),
    )  # fmt: skip


PAGES = FamilyPages(
    "Experiments",
    "/ui/experiments",
    lists=(LIST,),
    routes=(PageRoute("/ui/experiments/{name}", experiment_page),),
)
