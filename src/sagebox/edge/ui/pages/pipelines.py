"""Pipelines: the list, a pipeline's executions, and an execution's steps (live while it executes)."""

from __future__ import annotations

from starlette.responses import Response

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum

LIST = ListPage(
    path="/ui/pipelines",
    title="Pipelines",
    operation="ListPipelines",
    member="PipelineSummaries",
    columns=(
        Column("Name", "PipelineName", link="/ui/pipelines/{PipelineName}"),
        Column("Display name", "PipelineDisplayName"),
        Column("Created", "CreationTime", "time"),
        Column("Last execution", "LastExecutionTime", "time"),
    ),
    sorts=model_enum("ListPipelines", "SortBy"),
    name_filter=False,  # ListPipelines filters by PipelineNamePrefix
)
RUNNING = ("Executing", "Stopping")


async def pipeline_page(ctx: PageContext) -> Response:
    name = ctx.params["name"]
    described = await ctx.api("DescribePipeline", PipelineName=name)
    answer = await ctx.api(
        "ListPipelineExecutions",
        PipelineName=name,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=50,
        NextToken=ctx.query("token") or None,
    )
    executions = answer.get("PipelineExecutionSummaries", [])
    return ctx.render(
        "pipeline.html",
        pipeline=described,
        executions=executions,
        next_token=answer.get("NextToken"),
        running=any(e.get("PipelineExecutionStatus") in RUNNING for e in executions),
    )


async def execution_page(ctx: PageContext) -> Response:
    arn = ctx.query("arn")
    if not arn:
        raise ApiFailure(
            "ValidationException", "Name an execution with ?arn=<PipelineExecutionArn>."
        )
    described = await ctx.api("DescribePipelineExecution", PipelineExecutionArn=arn)
    steps = await ctx.api(
        "ListPipelineExecutionSteps",
        PipelineExecutionArn=arn,
        MaxResults=100,
        SortOrder="Ascending",
    )
    return ctx.render(
        "pipeline_execution.html",
        execution=described,
        steps=steps.get("PipelineExecutionSteps", []),
        running=described.get("PipelineExecutionStatus") in RUNNING,
    )


PAGES = FamilyPages(
    "Pipelines",
    "/ui/pipelines",
    lists=(LIST,),
    routes=(
        PageRoute("/ui/pipelines/{name}", pipeline_page),
        PageRoute("/ui/pipeline-execution", execution_page),
    ),
)
