"""Lineage: the graph QueryLineage answers around one entity (both directions, with its
edges), drawn in layers by distance from it (graph.py), each vertex linked to its page.

`/ui/lineage?arn=` takes a lineage entity's ARN (artifact, action, context, trial
component) or the ARN of what SageMaker records lineage for: a training, processing or
transform job (its trial component), an endpoint (its context, found by ListContexts on
its ARN), a model package (its artifact, by ListArtifacts) or a model (the artifact of
its model data). The detail pages of those link here.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from sagebox.edge.ui.calls import ApiFailure
from sagebox.edge.ui.graph import Edge, Node, distance_layers, layout
from sagebox.edge.ui.pages import FamilyPages, PageContext, PageRoute

MAX_DEPTH = 10
DESCRIBED_ARTIFACTS = 60  # artifacts named by their source; beyond that by their ARN
JOB_SUFFIXES = {
    "training-job": "-aws-training-job",
    "processing-job": "-aws-processing-job",
    "transform-job": "-aws-transform-job",
}
JOB_PAGES = {suffix: f"/ui/{kind}s/" for kind, suffix in JOB_SUFFIXES.items()}
LINEAGE_RESOURCES = ("artifact", "action", "context", "experiment-trial-component")


def _resource(arn: str) -> tuple[str, str]:
    """An ARN's resource type and name: arn:aws:sagemaker:r:a:training-job/name."""
    resource = arn.split(":", 5)[-1]
    kind, _, name = resource.partition("/")
    return kind, name


async def start_of(ctx: PageContext, arn: str) -> str:
    """The lineage entity to start from for `arn`."""
    kind, name = _resource(arn)
    if kind in LINEAGE_RESOURCES:
        return arn
    if kind in JOB_SUFFIXES:
        prefix = arn.rsplit(":", 1)[0]
        return f"{prefix}:experiment-trial-component/{name.lower()}{JOB_SUFFIXES[kind]}"
    if kind == "endpoint":
        found = await ctx.api("ListContexts", SourceUri=arn)
        summaries = found.get("ContextSummaries", [])
        if summaries:
            return summaries[0]["ContextArn"]
    if kind == "model-package":
        found = await ctx.api("ListArtifacts", SourceUri=arn)
        summaries = found.get("ArtifactSummaries", [])
        if summaries:
            return summaries[0]["ArtifactArn"]
    if kind == "model":
        described = await ctx.api("DescribeModel", ModelName=name)
        containers = [described.get("PrimaryContainer")] + described.get("Containers", [])
        for container in filter(None, containers):
            if container.get("ModelDataUrl"):
                found = await ctx.api("ListArtifacts", SourceUri=container["ModelDataUrl"])
                summaries = found.get("ArtifactSummaries", [])
                if summaries:
                    return summaries[0]["ArtifactArn"]
    raise ApiFailure(
        "ValidationException",
        f"sagebox records no lineage for {arn!r}: give the ARN of an artifact, action, "
        "context, trial component, training / processing / transform job, endpoint, "
        "model package or model with model data.",
    )


def page_of(arn: str, lineage_type: str, source: str | None) -> str | None:
    """The console page of a vertex: its job, endpoint, package, or its data in the S3
    browser; None where it has none (then the graph centres on it)."""
    kind, name = _resource(arn)
    if kind == "experiment-trial-component":
        for suffix, path in JOB_PAGES.items():
            if name.endswith(suffix):
                return path + quote(name.removesuffix(suffix), safe="")
        return None
    if source and source.startswith("s3://"):
        bucket, _, key = source.removeprefix("s3://").partition("/")
        folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        return f"/ui/s3/{quote(bucket, safe='')}?prefix={quote(folder, safe='')}"
    if source and ":endpoint/" in source:
        return "/ui/endpoints/" + quote(source.rsplit("/", 1)[-1], safe="")
    if source and ":model-package/" in source:
        return "/ui/model-package?arn=" + quote(source, safe="")
    return None


async def _sources(ctx: PageContext, vertices: list[dict[str, Any]]) -> dict[str, str]:
    """Where each artifact and context came from (its Source.SourceUri): artifacts and
    contexts are named by it; a bounded number of Describe calls, made together."""
    wanted = [v for v in vertices if v.get("LineageType") in ("Artifact", "Context")]
    wanted = wanted[:DESCRIBED_ARTIFACTS]

    async def source(vertex: dict[str, Any]) -> tuple[str, str]:
        arn = vertex["Arn"]
        try:
            if vertex["LineageType"] == "Artifact":
                described = await ctx.api("DescribeArtifact", ArtifactArn=arn)
            else:
                described = await ctx.api("DescribeContext", ContextName=_resource(arn)[1])
        except ApiFailure:
            return arn, ""
        return arn, (described.get("Source") or {}).get("SourceUri", "")

    return dict(await asyncio.gather(*(source(v) for v in wanted)))


def _label(arn: str, source: str) -> str:
    if source:
        return source.rstrip("/").rsplit("/", 1)[-1] or source
    return _resource(arn)[1]


async def lineage_page(ctx: PageContext) -> Response:
    given = ctx.query("arn")
    if not given:
        raise ApiFailure("ValidationException", "Name the entity with ?arn=<ARN>.")
    start = await start_of(ctx, given)
    answer = await ctx.api(
        "QueryLineage", StartArns=[start], Direction="Both", IncludeEdges=True, MaxDepth=MAX_DEPTH
    )
    vertices = answer.get("Vertices", [])
    if not any(v["Arn"] == start for v in vertices):
        kind = _resource(start)[0]
        lineage_type = {
            "artifact": "Artifact",
            "action": "Action",
            "context": "Context",
        }.get(kind, "TrialComponent")
        vertices.insert(0, {"Arn": start, "Type": "", "LineageType": lineage_type})
    sources = await _sources(ctx, vertices)
    rows = []
    nodes = []
    for vertex in vertices:
        arn, lineage_type = vertex["Arn"], vertex.get("LineageType", "")
        source = sources.get(arn, "")
        href = page_of(arn, lineage_type, source)
        recentre = "/ui/lineage?arn=" + quote(arn, safe="")
        label = _label(arn, source)
        nodes.append(
            Node(
                id=arn,
                label=label,
                kind=f"{vertex.get('Type') or ''} · {lineage_type}".strip(" ·"),
                href=href or recentre,
                css=lineage_type.lower() or "plain",
                title=source or arn,
                start=arn == start,
            )
        )
        rows.append(
            {
                "arn": arn,
                "label": label,
                "type": vertex.get("Type") or "",
                "lineage_type": lineage_type,
                "source": source,
                "page": href,
                "recentre": recentre,
            }
        )
    edges = [
        Edge(e["SourceArn"], e["DestinationArn"], e.get("AssociationType", ""))
        for e in answer.get("Edges", [])
    ]
    layers = distance_layers(start, [n.id for n in nodes], edges)
    drawing = layout(nodes, edges, layers)
    return ctx.render(
        "lineage.html",
        given=given,
        start=start,
        drawing=drawing,
        vertices=rows,
        edges=answer.get("Edges", []),
        labels={row["arn"]: row["label"] for row in rows},
    )


PAGES = FamilyPages("", "/ui/lineage", routes=(PageRoute("/ui/lineage", lineage_page),))
