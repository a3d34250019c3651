"""Lineage lives in the metadata store: a restarted server has every entity and association."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from sagebox.cli.server_process import ServerProcess


def client(server: ServerProcess) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_entities_and_associations_survive_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = ServerProcess(home).start()
    try:
        sagemaker = client(server)
        data = sagemaker.create_artifact(
            Source={"SourceUri": "s3://b/data.csv"}, ArtifactType="DataSet"
        )["ArtifactArn"]
        step = sagemaker.create_action(
            ActionName="train", ActionType="Training", Source={"SourceUri": "s"}
        )["ActionArn"]
        group = sagemaker.create_context(
            ContextName="project",
            ContextType="Project",
            Source={"SourceUri": "p"},
            Properties={"team": "ml"},
        )["ContextArn"]
        sagemaker.add_association(
            SourceArn=data, DestinationArn=step, AssociationType="ContributedTo"
        )
        sagemaker.add_association(
            SourceArn=step, DestinationArn=group, AssociationType="AssociatedWith"
        )
        before = sagemaker.query_lineage(
            StartArns=[group], Direction="Ascendants", IncludeEdges=True
        )
        described = sagemaker.describe_context(ContextName="project")
        server.kill()

        server = ServerProcess(home).start()
        sagemaker = client(server)
        after = sagemaker.query_lineage(
            StartArns=[group], Direction="Ascendants", IncludeEdges=True
        )
        assert (after["Vertices"], after["Edges"]) == (before["Vertices"], before["Edges"])
        assert len(after["Vertices"]) == 3
        again = sagemaker.describe_context(ContextName="project")
        assert {k: v for k, v in again.items() if k != "ResponseMetadata"} == {
            k: v for k, v in described.items() if k != "ResponseMetadata"
        }
        assert sagemaker.describe_artifact(ArtifactArn=data)["ArtifactType"] == "DataSet"
        summaries = sagemaker.list_associations(SourceArn=step)["AssociationSummaries"]
        assert [(s["DestinationName"], s["AssociationType"]) for s in summaries] == [
            ("project", "AssociatedWith")
        ]
    finally:
        server.stop()
