"""Pipelines: the list, a pipeline's executions, and an execution on its DAG with its steps
(live while it executes).

The DAG is the execution's own definition (DescribePipelineDefinitionForExecution) read
with the pipeline service's pure parser and graph (a step depends on its DependsOn, on the
steps its arguments refer to, and on the Condition step whose branch it is in), laid out in
layers (edge/ui/graph.py) and coloured by ListPipelineExecutionSteps' StepStatus; a step
not listed yet is waiting.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.formatting import status_class
from sagebox.edge.ui.graph import Drawing, Edge, Node, layout, longest_path_layers
from sagebox.edge.ui.pages import Column, FamilyPages, ListPage, PageContext, PageRoute, model_enum
from sagebox.services.pipelines.definition import DefinitionError, parse_definition
from sagebox.services.pipelines.graph import step_references

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
# A step's run, from its ListPipelineExecutionSteps Metadata: (member, console path).
STEP_PAGES = (
    ("TrainingJob", "/ui/training-jobs/"),
    ("ProcessingJob", "/ui/processing-jobs/"),
    ("TransformJob", "/ui/transform-jobs/"),
    ("TuningJob", "/ui/tuning-jobs/"),
    ("AutoMLJob", "/ui/automl-jobs/"),
    ("Model", "/ui/models/"),
    ("Endpoint", "/ui/endpoints/"),
    ("EndpointConfig", "/ui/endpoint-configs/"),
)


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
    listed = steps.get("PipelineExecutionSteps", [])
    definition = await ctx.api("DescribePipelineDefinitionForExecution", PipelineExecutionArn=arn)
    return ctx.render(
        "pipeline_execution.html",
        execution=described,
        steps=listed,
        dag=dag(definition.get("PipelineDefinition", ""), listed),
        running=described.get("PipelineExecutionStatus") in RUNNING,
    )


def step_page(step: dict[str, Any]) -> str | None:
    """The console page of what a listed step ran (its job, model, endpoint)."""
    metadata = step.get("Metadata") or {}
    for member, path in STEP_PAGES:
        arn = (metadata.get(member) or {}).get("Arn")
        if arn:
            return path + quote(arn.rsplit("/", 1)[-1], safe="")
    return None


def dag(text: str, listed: list[dict[str, Any]]) -> Drawing | None:
    """The definition's steps as a layered graph, each node coloured by its step's latest
    StepStatus; None when the definition cannot be read."""
    try:
        definition = parse_definition(text)
    except (DefinitionError, ValueError):
        return None
    latest: dict[str, dict[str, Any]] = {}
    for step in listed:  # oldest first: a retried step's latest attempt wins
        latest[step["StepName"]] = step
    nodes, edges = [], []
    for name, step in definition.steps.items():
        listed_step = latest.get(name)
        status = (listed_step or {}).get("StepStatus")
        nodes.append(
            Node(
                id=name,
                label=step.display_name or name,
                kind=f"{step.type} · {status or 'Not started'}",
                href=(step_page(listed_step) if listed_step else None) or f"#step-{name}",
                css=status_class(status) if status else "waiting",
                title=f"{name}: {status or 'not started'}",
            )
        )
        kinds: dict[str, str] = {}
        for needed in step.depends_on:
            kinds[needed] = "DependsOn"
        for reference in step_references(step):
            kinds.setdefault(reference.step, "data")
        if step.branch is not None:
            kinds[step.branch.condition_step] = "if" if step.branch.outcome else "else"
        edges += [Edge(source, name, label) for source, label in kinds.items() if source != name]
    layers = longest_path_layers([n.id for n in nodes], edges)
    return layout(nodes, edges, layers)


PAGES = FamilyPages(
    "Pipelines",
    "/ui/pipelines",
    lists=(LIST,),
    routes=(
        PageRoute("/ui/pipelines/{name}", pipeline_page),
        PageRoute("/ui/pipeline-execution", execution_page),
    ),
)
