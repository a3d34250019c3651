"""Hosting: models, endpoint configurations and endpoints (variants, weights, instance counts, status)."""

from __future__ import annotations

from starlette.responses import Response

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
CHANGING = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


async def model_page(ctx: PageContext) -> Response:
    described = await ctx.api("DescribeModel", ModelName=ctx.params["name"])
    return ctx.render("model.html", model=described)


async def config_page(ctx: PageContext) -> Response:
    described = await ctx.api("DescribeEndpointConfig", EndpointConfigName=ctx.params["name"])
    return ctx.render("endpoint_config.html", config=described)


async def endpoint_page(ctx: PageContext) -> Response:
    described = await ctx.api("DescribeEndpoint", EndpointName=ctx.params["name"])
    variants = described.get("ProductionVariants", [])
    total = sum(float(v.get("CurrentWeight") or 0) for v in variants) or 1.0
    return ctx.render(
        "endpoint.html",
        endpoint=described,
        variants=variants,
        total_weight=total,
        changing=described["EndpointStatus"] in CHANGING,
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
