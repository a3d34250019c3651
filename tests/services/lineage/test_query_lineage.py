"""QueryLineage through boto3 over a graph made by hand: directions, depth, filters, edges, pages."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.services.lineage.test_entities import error_of
from tests.services.training.jobs import unique


@pytest.fixture(scope="module")
def graph(sagemaker: Any) -> dict[str, str]:
    """raw -> prep -> clean -> train -> model -> deploy -> endpoint, and image -> train.

    raw, clean: DataSet artifacts; image: Image; model: Model (Properties stage=prod);
    prep, train, deploy: actions; endpoint: an Endpoint context.
    """
    tag = unique("q")
    arns: dict[str, str] = {}

    def artifact(key: str, artifact_type: str, **extra: Any) -> None:
        arns[key] = sagemaker.create_artifact(
            Source={"SourceUri": f"s3://{tag}/{key}"}, ArtifactType=artifact_type, **extra
        )["ArtifactArn"]
        time.sleep(0.005)

    def action(key: str, action_type: str) -> None:
        arns[key] = sagemaker.create_action(
            ActionName=f"{tag}-{key}", ActionType=action_type, Source={"SourceUri": tag}
        )["ActionArn"]
        time.sleep(0.005)

    artifact("raw", "DataSet")
    action("prep", "Processing")
    artifact("clean", "DataSet")
    artifact("image", "Image")
    action("train", "Training")
    artifact("model", "Model", Properties={"stage": "prod"})
    action("deploy", "ModelDeployment")
    arns["endpoint"] = sagemaker.create_context(
        ContextName=f"{tag}-endpoint", ContextType="Endpoint", Source={"SourceUri": tag}
    )["ContextArn"]
    edges = [
        ("raw", "prep", "ContributedTo"),
        ("prep", "clean", "Produced"),
        ("clean", "train", "ContributedTo"),
        ("image", "train", "ContributedTo"),
        ("train", "model", "Produced"),
        ("model", "deploy", "ContributedTo"),
        ("deploy", "endpoint", "AssociatedWith"),
    ]
    for source, destination, kind in edges:
        sagemaker.add_association(
            SourceArn=arns[source], DestinationArn=arns[destination], AssociationType=kind
        )
    return arns


def names(graph: dict[str, str], answer: dict[str, Any]) -> list[str]:
    by_arn = {arn: key for key, arn in graph.items()}
    return [by_arn[v["Arn"]] for v in answer["Vertices"]]


def test_ascendants_come_in_walk_order_with_their_types(
    sagemaker: Any, graph: dict[str, str]
) -> None:
    answer = sagemaker.query_lineage(StartArns=[graph["endpoint"]], Direction="Ascendants")
    found = names(graph, answer)
    assert found[:3] == ["deploy", "model", "train"]
    assert sorted(found[3:5]) == ["clean", "image"] and found[5:] == ["prep", "raw"]
    assert answer["Edges"] == []  # IncludeEdges is false unless asked
    types = {v["Arn"]: (v["Type"], v["LineageType"]) for v in answer["Vertices"]}
    assert types[graph["deploy"]] == ("ModelDeployment", "Action")
    assert types[graph["raw"]] == ("DataSet", "Artifact")
    assert (
        sagemaker.query_lineage(StartArns=[graph["endpoint"]], Direction="Descendants")["Vertices"]
        == []
    )


def test_descendants_both_and_max_depth(sagemaker: Any, graph: dict[str, str]) -> None:
    down = sagemaker.query_lineage(StartArns=[graph["raw"]], Direction="Descendants")
    assert names(graph, down) == ["prep", "clean", "train", "model", "deploy", "endpoint"]
    near = sagemaker.query_lineage(StartArns=[graph["model"]], Direction="Both", MaxDepth=1)
    assert sorted(names(graph, near)) == ["deploy", "train"]
    # Both walks either way from every vertex reached: from the model to the image via train.
    two = sagemaker.query_lineage(StartArns=[graph["model"]], Direction="Both", MaxDepth=2)
    assert sorted(names(graph, two)) == ["clean", "deploy", "endpoint", "image", "train"]
    shallow = sagemaker.query_lineage(
        StartArns=[graph["endpoint"]], Direction="Ascendants", MaxDepth=4
    )
    assert "raw" not in names(graph, shallow) and "clean" in names(graph, shallow)
    assert (
        sagemaker.query_lineage(StartArns=[graph["endpoint"]], Direction="Ascendants", MaxDepth=0)[
            "Vertices"
        ]
        == []
    )


def test_filters_narrow_the_answer_not_the_walk(sagemaker: Any, graph: dict[str, str]) -> None:
    def query(**filters: Any) -> list[str]:
        answer = sagemaker.query_lineage(
            StartArns=[graph["endpoint"]], Direction="Ascendants", Filters=filters
        )
        return names(graph, answer)

    assert query(Types=["DataSet"], LineageTypes=["Artifact"]) == ["clean", "raw"]
    assert query(LineageTypes=["Action"]) == ["deploy", "train", "prep"]
    both = query(Types=["DataSet", "Image"])
    assert sorted(both[:2]) == ["clean", "image"] and both[2:] == ["raw"]  # depth 4, then depth 6
    assert query(Properties={"stage": "prod", "other": "x"}) == ["model"]
    assert query(Properties={"stage": "dev"}) == []
    assert query(LineageTypes=["TrialComponent"]) == []
    model_time = sagemaker.describe_artifact(ArtifactArn=graph["model"])["CreationTime"]
    assert query(CreatedAfter=model_time) == [
        "deploy"
    ]  # strictly after; the start is never answered
    assert query(CreatedBefore=model_time, Types=["Training", "Processing"]) == ["train", "prep"]
    modified = sagemaker.describe_artifact(ArtifactArn=graph["clean"])["LastModifiedTime"]
    assert query(ModifiedBefore=modified) == ["prep", "raw"]
    assert "clean" not in query(ModifiedAfter=modified)


def test_include_edges_answers_the_way_to_what_matched(
    sagemaker: Any, graph: dict[str, str]
) -> None:
    answer = sagemaker.query_lineage(
        StartArns=[graph["endpoint"]],
        Direction="Ascendants",
        IncludeEdges=True,
        Filters={"Types": ["DataSet"]},
    )
    assert names(graph, answer) == [
        "endpoint",
        "deploy",
        "model",
        "train",
        "clean",
        "prep",
        "raw",
    ]  # not the image
    by_arn = {arn: key for key, arn in graph.items()}
    edges = {
        (by_arn[e["SourceArn"]], by_arn[e["DestinationArn"]], e["AssociationType"])
        for e in answer["Edges"]
    }
    assert edges == {
        ("raw", "prep", "ContributedTo"),
        ("prep", "clean", "Produced"),
        ("clean", "train", "ContributedTo"),
        ("train", "model", "Produced"),
        ("model", "deploy", "ContributedTo"),
        ("deploy", "endpoint", "AssociatedWith"),
    }
    everything = sagemaker.query_lineage(
        StartArns=[graph["endpoint"]], Direction="Ascendants", IncludeEdges=True
    )
    assert len(everything["Vertices"]) == 8 and len(everything["Edges"]) == 7


def test_pages_hold_every_vertex_once_and_each_edge_with_its_later_end(
    sagemaker: Any, graph: dict[str, str]
) -> None:
    request = {"StartArns": [graph["endpoint"]], "Direction": "Ascendants", "IncludeEdges": True}
    whole = sagemaker.query_lineage(**request)
    vertices, edges, token, pages = [], [], None, 0
    while True:
        page = sagemaker.query_lineage(
            **request, MaxResults=3, **({"NextToken": token} if token else {})
        )
        assert len(page["Vertices"]) <= 3
        vertices += page["Vertices"]
        edges += page["Edges"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert vertices == whole["Vertices"]
    assert sorted(map(str, edges)) == sorted(map(str, whole["Edges"]))
    code, message = error_of(
        sagemaker.query_lineage,
        **{**request, "Direction": "Both"},
        NextToken=page_token(sagemaker, request),
    )
    assert code == "ValidationException" and "another query" in message
    code, _ = error_of(sagemaker.query_lineage, **request, NextToken="garbage")
    assert code == "ValidationException"


def page_token(sagemaker: Any, request: dict[str, Any]) -> str:
    token: str = sagemaker.query_lineage(**request, MaxResults=1)["NextToken"]
    return token


def test_query_errors(sagemaker: Any, graph: dict[str, str]) -> None:
    missing = graph["endpoint"] + "-missing"
    code, message = error_of(sagemaker.query_lineage, StartArns=[missing], Direction="Ascendants")
    assert (code, message) == ("ResourceNotFound", f"Start ARN '{missing}' does not exist.")
    code, message = error_of(sagemaker.query_lineage, StartArns=[graph["model"], graph["raw"]])
    assert code == "ValidationException" and "at 'startArns'" in message
    code, message = error_of(sagemaker.query_lineage, StartArns=[graph["model"]], MaxDepth=11)
    assert code == "ValidationException" and "at 'maxDepth'" in message
    code, message = error_of(
        sagemaker.query_lineage, StartArns=[graph["model"]], Direction="Sideways"
    )
    assert code == "ValidationException" and "at 'direction'" in message
    code, message = error_of(
        sagemaker.query_lineage, StartArns=[graph["model"]], Filters={"LineageTypes": ["Trial"]}
    )
    assert code == "ValidationException" and "lineageTypes" in message
    assert sagemaker.query_lineage(StartArns=[])["Vertices"] == []
