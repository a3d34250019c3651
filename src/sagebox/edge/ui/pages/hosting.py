"""Hosting: models, endpoint configurations and endpoints (variants, weights, instance counts, status)."""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

MODELS = ListPage(
    path="/ui/models",
    title="Models",
    operation="ListModels",
    member="Models",
    columns=(
        Column("Name", "ModelName", link="/ui/models/{ModelName}"),
        Column("Created", "CreationTime", "time"),
    ),
    sorts=model_enum("ListModels", "SortBy"),
)
CONFIGS = ListPage(
    path="/ui/endpoint-configs",
    title="Endpoint configurations",
    operation="ListEndpointConfigs",
    member="EndpointConfigs",
    columns=(
        Column("Name", "EndpointConfigName", link="/ui/endpoint-configs/{EndpointConfigName}"),
        Column("Created", "CreationTime", "time"),
    ),
    sorts=model_enum("ListEndpointConfigs", "SortBy"),
)
ENDPOINTS = ListPage(
    path="/ui/endpoints",
    title="Endpoints",
    operation="ListEndpoints",
    member="Endpoints",
    columns=(
        Column("Name", "EndpointName", link="/ui/endpoints/{EndpointName}"),
        Column("Status", "EndpointStatus", "status"),
        Column("Created", "CreationTime", "time"),
        Column("Modified", "LastModifiedTime", "time"),
    ),
    statuses=model_enum("ListEndpoints", "StatusEquals"),
    sorts=model_enum("ListEndpoints", "SortBy"),
)
METRICS_WINDOW_SECONDS = 3 * 3600
ENDPOINT_LOG_LINES = 100
CHANGING = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


async def model_page(ctx: PageContext) -> Response:
    described = await ctx.api("DescribeModel", ModelName=ctx.params["name"])
    return ctx.render("model.html", model=described)


async def config_page(ctx: PageContext) -> Response:
    described = await ctx.api("DescribeEndpointConfig", EndpointConfigName=ctx.params["name"])
    return ctx.render("endpoint_config.html", config=described)


async def invocation_charts(
    ctx: PageContext, endpoint: str, variants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Invocations a minute over the last hours, per variant, as CloudWatch's
    GetMetricStatistics answers for AWS/SageMaker (what any CloudWatch client reads)."""
    now = time.time()
    charts = []
    for variant in variants:
        answer = await ctx.api(
            "GetMetricStatistics",
            "cloudwatch",
            Namespace="AWS/SageMaker",
            MetricName="Invocations",
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant["VariantName"]},
            ],
            StartTime=now - METRICS_WINDOW_SECONDS,
            EndTime=now + 60,
            Period=60,
            Statistics=["Sum"],
        )
        points = sorted(answer.get("Datapoints", []), key=lambda d: d["Timestamp"])
        charts.append({
            "name": f"Invocations a minute: {variant['VariantName']}",
            "variant": variant["VariantName"],
            "x": [d["Timestamp"] for d in points],
            "y": [d["Sum"] for d in points],
            "time": True,
            "range": [now - METRICS_WINDOW_SECONDS, now],
            "points": True,
        })  # fmt: skip
    return charts


async def endpoint_log(ctx: PageContext, endpoint: str) -> list[str]:
    try:
        answer = await ctx.api(
            "FilterLogEvents",
            "logs",
            logGroupName=f"/aws/sagemaker/Endpoints/{endpoint}",
            limit=10_000,
        )
    except ApiFailure as failure:
        if failure.code == "ResourceNotFoundException":
            return []  # no instance has logged anything yet
        raise
    return [
        f"{e['logStreamName']}: {e['message']}"
        for e in answer.get("events", [])[-ENDPOINT_LOG_LINES:]
    ]


async def endpoint_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    described = await ctx.api("DescribeEndpoint", EndpointName=name)
    variants = described.get("ProductionVariants", [])
    total = sum(float(v.get("CurrentWeight") or 0) for v in variants) or 1.0
    return ctx.render(
        "endpoint.html",
        endpoint=described,
        variants=variants,
        total_weight=total,
        changing=described["EndpointStatus"] in CHANGING,
        charts=await invocation_charts(ctx, name, variants),
        log=await endpoint_log(ctx, name),
    )


PAGES = FamilyPages(
    "Endpoints",
    "/ui/endpoints",
    lists=(ENDPOINTS, CONFIGS, MODELS),
    routes=(
        PageRoute("/ui/models/{name}", model_page),
        PageRoute("/ui/endpoint-configs/{name}", config_page),
        PageRoute("/ui/endpoints/{name}", endpoint_page),
    ),
)
