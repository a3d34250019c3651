"""Associations through boto3: AddAssociation, DeleteAssociation, ListAssociations and errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.services.lineage.test_entities import error_of
from tests.services.training.jobs import unique

ACCOUNT = "arn:aws:sagemaker:us-east-1:123456789012"


def make_graph(sagemaker: Any) -> dict[str, str]:
    """data --ContributedTo--> step --Produced--> model; step --AssociatedWith--> group."""
    tag = unique("g")
    arns = {
        "data": sagemaker.create_artifact(
            ArtifactName="data",
            Source={"SourceUri": f"s3://{tag}/data.csv"},
            ArtifactType="DataSet",
        )["ArtifactArn"],
        "model": sagemaker.create_artifact(
            Source={"SourceUri": f"s3://{tag}/model.tar.gz"},
            ArtifactType="Model",
            Properties={"stage": "prod"},
        )["ArtifactArn"],
        "step": sagemaker.create_action(
            ActionName=f"{tag}-step", ActionType="Training", Source={"SourceUri": tag}
        )["ActionArn"],
        "group": sagemaker.create_context(
            ContextName=f"{tag}-group", ContextType="Project", Source={"SourceUri": tag}
        )["ContextArn"],
    }
    sagemaker.add_association(
        SourceArn=arns["data"], DestinationArn=arns["step"], AssociationType="ContributedTo"
    )
    time.sleep(0.01)
    sagemaker.add_association(
        SourceArn=arns["step"], DestinationArn=arns["model"], AssociationType="Produced"
    )
    time.sleep(0.01)
    sagemaker.add_association(
        SourceArn=arns["step"], DestinationArn=arns["group"], AssociationType="AssociatedWith"
    )
    return arns


def test_associations_are_listed_with_the_types_and_names_of_their_ends(sagemaker: Any) -> None:
    arns = make_graph(sagemaker)
    into_step = sagemaker.list_associations(DestinationArn=arns["step"])["AssociationSummaries"]
    assert len(into_step) == 1
    summary = into_step[0]
    assert summary["SourceArn"] == arns["data"] and summary["DestinationArn"] == arns["step"]
    assert (summary["SourceType"], summary["DestinationType"]) == ("DataSet", "Training")
    assert summary["AssociationType"] == "ContributedTo"
    assert (summary["SourceName"], summary["DestinationName"]) == (
        "data",
        arns["step"].split("/")[1],
    )
    assert "CreationTime" in summary

    out_of_step = sagemaker.list_associations(SourceArn=arns["step"])["AssociationSummaries"]
    assert [s["DestinationArn"] for s in out_of_step] == [
        arns["group"],
        arns["model"],
    ]  # newest first
    assert "DestinationName" not in out_of_step[1]  # the model artifact has no name
    produced = sagemaker.list_associations(SourceArn=arns["step"], AssociationType="Produced")[
        "AssociationSummaries"
    ]
    assert [s["DestinationArn"] for s in produced] == [arns["model"]]
    typed = sagemaker.list_associations(SourceArn=arns["step"], DestinationType="Project")[
        "AssociationSummaries"
    ]
    assert [s["DestinationArn"] for s in typed] == [arns["group"]]
    by_source_type = sagemaker.list_associations(DestinationArn=arns["step"], SourceType="Model")
    assert by_source_type["AssociationSummaries"] == []

    touching = [arns["step"], arns["data"]]
    sorted_by_destination = [
        s["DestinationArn"]
        for arn in touching
        for s in sagemaker.list_associations(
            SourceArn=arn, SortBy="DestinationArn", SortOrder="Ascending"
        )["AssociationSummaries"]
    ]
    assert sorted_by_destination == [*sorted([arns["group"], arns["model"]]), arns["step"]]
    first = sagemaker.list_associations(SourceArn=arns["step"], SortOrder="Ascending", MaxResults=1)
    assert (
        first["AssociationSummaries"][0]["DestinationArn"] == arns["model"] and first["NextToken"]
    )
    second = sagemaker.list_associations(
        SourceArn=arns["step"], SortOrder="Ascending", MaxResults=1, NextToken=first["NextToken"]
    )
    assert second["AssociationSummaries"][0]["DestinationArn"] == arns["group"]
    created = out_of_step[0]["CreationTime"]
    recent = sagemaker.list_associations(SourceArn=arns["step"], CreatedAfter=created)[
        "AssociationSummaries"
    ]
    assert [s["DestinationArn"] for s in recent] == [arns["group"]]
    earlier = sagemaker.list_associations(SourceArn=arns["step"], CreatedBefore=created)[
        "AssociationSummaries"
    ]
    assert len(earlier) == 2

    renamed = sagemaker.update_artifact(ArtifactArn=arns["model"], ArtifactName="the-model")[
        "ArtifactArn"
    ]
    after_rename = sagemaker.list_associations(DestinationArn=renamed)["AssociationSummaries"]
    assert after_rename[0]["DestinationName"] == "the-model"


def test_delete_association_and_deleting_an_entity_removes_its_associations(sagemaker: Any) -> None:
    arns = make_graph(sagemaker)
    answer = sagemaker.delete_association(SourceArn=arns["data"], DestinationArn=arns["step"])
    assert (answer["SourceArn"], answer["DestinationArn"]) == (arns["data"], arns["step"])
    assert sagemaker.list_associations(DestinationArn=arns["step"])["AssociationSummaries"] == []
    code, message = error_of(
        sagemaker.delete_association, SourceArn=arns["data"], DestinationArn=arns["step"]
    )
    assert (code, message) == (
        "ResourceNotFound",
        f"Association from '{arns['data']}' to '{arns['step']}' does not exist.",
    )
    sagemaker.delete_action(ActionName=arns["step"].split("/")[1])
    assert sagemaker.list_associations(SourceArn=arns["step"])["AssociationSummaries"] == []
    assert sagemaker.list_associations(DestinationArn=arns["group"])["AssociationSummaries"] == []
    # An association is not kept for an entity made again under the same name.
    again = sagemaker.create_action(
        ActionName=arns["step"].split("/")[1], ActionType="Training", Source={"SourceUri": "s"}
    )
    assert again["ActionArn"] == arns["step"]
    assert sagemaker.list_associations(SourceArn=arns["step"])["AssociationSummaries"] == []


def test_association_errors(sagemaker: Any) -> None:
    arns = make_graph(sagemaker)
    code, message = error_of(
        sagemaker.add_association,
        SourceArn=arns["data"],
        DestinationArn=arns["step"],
        AssociationType="Produced",
    )
    assert (code, message) == (
        "ValidationException",
        f"An association from '{arns['data']}' to '{arns['step']}' already exists.",
    )
    missing = f"{ACCOUNT}:context/{unique('nowhere')}"
    code, message = error_of(
        sagemaker.add_association, SourceArn=arns["data"], DestinationArn=missing
    )
    assert (code, message) == ("ResourceNotFound", f"Destination '{missing}' does not exist.")
    code, message = error_of(
        sagemaker.add_association, SourceArn=missing, DestinationArn=arns["data"]
    )
    assert (code, message) == ("ResourceNotFound", f"Source '{missing}' does not exist.")
    code, message = error_of(
        sagemaker.add_association,
        SourceArn=arns["data"],
        DestinationArn=arns["group"],
        AssociationType="Consumed",
    )
    assert code == "ValidationException"
    assert (
        "'Consumed' at 'associationType' failed to satisfy constraint: Member must satisfy enum value set"
        in message
    )
    code, message = error_of(
        sagemaker.add_association, SourceArn=f"{ACCOUNT}:model/m", DestinationArn=arns["data"]
    )
    assert code == "ValidationException" and "at 'sourceArn'" in message
    code, message = error_of(
        sagemaker.add_association, SourceArn=arns["data"], DestinationArn=arns["data"]
    )
    assert (code, message) == (
        "ValidationException",
        f"An association cannot join '{arns['data']}' to itself.",
    )
    component = f"{ACCOUNT}:experiment-trial-component/{unique('tc')}"
    experiment = f"{ACCOUNT}:experiment/{unique('exp')}"
    code, message = error_of(
        sagemaker.add_association, SourceArn=component, DestinationArn=experiment
    )
    assert code == "ValidationException" and "two experiment entities" in message
    code, message = error_of(sagemaker.list_associations, SortBy="Name")
    assert code == "ValidationException" and "at 'sortBy'" in message
    # Without a type an association has none.
    sagemaker.add_association(SourceArn=arns["data"], DestinationArn=arns["group"])
    (summary,) = sagemaker.list_associations(SourceArn=arns["data"], DestinationArn=arns["group"])[
        "AssociationSummaries"
    ]
    assert "AssociationType" not in summary


@pytest.mark.parametrize(
    "sort_by", ["SourceArn", "DestinationArn", "SourceType", "DestinationType", "CreationTime"]
)
def test_every_sort_key_pages_completely(sagemaker: Any, sort_by: str) -> None:
    context = sagemaker.create_context(
        ContextName=unique("hub"), ContextType="Hub", Source={"SourceUri": "h"}
    )["ContextArn"]
    sources = [
        sagemaker.create_artifact(
            Source={"SourceUri": f"s3://{unique('p')}/x"}, ArtifactType=f"T{i % 2}"
        )["ArtifactArn"]
        for i in range(5)
    ]
    for source in sources:
        sagemaker.add_association(SourceArn=source, DestinationArn=context)
    pages = sagemaker.get_paginator("list_associations").paginate(
        DestinationArn=context,
        SortBy=sort_by,
        SortOrder="Ascending",
        PaginationConfig={"PageSize": 2},
    )
    listed = [s for page in pages for s in page["AssociationSummaries"]]
    assert sorted(s["SourceArn"] for s in listed) == sorted(sources)
    keys = [s[sort_by] for s in listed]
    assert keys == sorted(keys)
