"""Artifacts, actions and contexts through boto3: create, describe, list, update, delete, errors."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import unique

ARTIFACT_ARN = re.compile(r"arn:aws:sagemaker:us-east-1:123456789012:artifact/[0-9a-f]{32}")


def error_of(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**request)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_an_artifact_is_named_by_its_arn_and_identified_by_its_source(sagemaker: Any) -> None:
    uri = f"s3://{unique('data')}/train/"
    created = sagemaker.create_artifact(
        ArtifactName="training-data",
        Source={"SourceUri": uri, "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "abc"}]},
        ArtifactType="DataSet",
        Properties={"rows": "300"},
        MetadataProperties={"CommitId": "1234", "Repository": "repo"},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    arn = created["ArtifactArn"]
    assert ARTIFACT_ARN.fullmatch(arn)
    described = sagemaker.describe_artifact(ArtifactArn=arn)
    assert described["ArtifactName"] == "training-data"
    assert described["Source"] == {
        "SourceUri": uri,
        "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "abc"}],
    }
    assert described["ArtifactType"] == "DataSet"
    assert described["Properties"] == {"rows": "300"}
    assert described["MetadataProperties"] == {"CommitId": "1234", "Repository": "repo"}
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    # One artifact per source: the same source again is an entity that already exists.
    code, message = error_of(
        sagemaker.create_artifact,
        Source={"SourceUri": uri, "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "abc"}]},
        ArtifactType="DataSet",
    )
    assert (code, message) == ("ValidationException", f"Artifact '{arn}' already exists.")
    # Another ETag of the same URI is another source, so another artifact.
    other = sagemaker.create_artifact(
        Source={"SourceUri": uri, "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "def"}]},
        ArtifactType="DataSet",
    )["ArtifactArn"]
    assert other != arn

    summaries = sagemaker.list_artifacts(SourceUri=uri)["ArtifactSummaries"]
    assert [s["ArtifactArn"] for s in summaries] == [other, arn]  # newest first
    assert summaries[1]["ArtifactName"] == "training-data"
    assert set(summaries[1]) == {
        "ArtifactArn",
        "ArtifactName",
        "Source",
        "ArtifactType",
        "CreationTime",
        "LastModifiedTime",
    }

    sagemaker.delete_artifact(
        Source={"SourceUri": uri, "SourceTypes": [{"SourceIdType": "S3ETag", "Value": "def"}]}
    )
    assert sagemaker.delete_artifact(ArtifactArn=arn)["ArtifactArn"] == arn
    assert sagemaker.list_artifacts(SourceUri=uri)["ArtifactSummaries"] == []
    code, message = error_of(sagemaker.describe_artifact, ArtifactArn=arn)
    assert (code, message) == ("ResourceNotFound", f"Artifact '{arn}' does not exist.")


def test_updating_an_artifact_replaces_its_properties_then_removes_some(sagemaker: Any) -> None:
    arn = sagemaker.create_artifact(
        Source={"SourceUri": f"s3://{unique('update')}/model.tar.gz"},
        ArtifactType="Model",
        Properties={"a": "1", "b": "2"},
    )["ArtifactArn"]
    created = sagemaker.describe_artifact(ArtifactArn=arn)["CreationTime"]
    time.sleep(0.01)
    answer = sagemaker.update_artifact(
        ArtifactArn=arn,
        ArtifactName="renamed",
        Properties={"b": "3", "c": "4"},
        PropertiesToRemove=["c"],
    )
    assert answer["ArtifactArn"] == arn
    described = sagemaker.describe_artifact(ArtifactArn=arn)
    assert described["ArtifactName"] == "renamed"
    assert described["Properties"] == {"b": "3"}
    assert described["CreationTime"] == created < described["LastModifiedTime"]
    sagemaker.update_artifact(ArtifactArn=arn, PropertiesToRemove=["b", "not-there"])
    assert sagemaker.describe_artifact(ArtifactArn=arn)["Properties"] == {}
    sagemaker.delete_artifact(ArtifactArn=arn)


def test_artifact_errors(sagemaker: Any) -> None:
    missing = "arn:aws:sagemaker:us-east-1:123456789012:artifact/" + "0" * 32
    for call in (sagemaker.describe_artifact, sagemaker.delete_artifact, sagemaker.update_artifact):
        code, message = error_of(call, ArtifactArn=missing)
        assert (code, message) == ("ResourceNotFound", f"Artifact '{missing}' does not exist.")
    code, message = error_of(sagemaker.delete_artifact)
    assert (code, message) == (
        "ValidationException",
        "Either ArtifactArn or Source must be specified, but not both.",
    )
    code, message = error_of(
        sagemaker.describe_artifact,
        ArtifactArn="arn:aws:sagemaker:us-east-1:123456789012:context/x",
    )
    assert code == "ValidationException" and "at 'artifactArn'" in message  # the ARN pattern
    code, message = error_of(sagemaker.list_artifacts, NextToken="not-a-token")
    assert (code, message) == ("ValidationException", "Invalid pagination token: 'not-a-token'")
    code, message = error_of(
        sagemaker.create_artifact,
        Source={"SourceUri": "s3://x/y"},
        ArtifactType="DataSet",
        ArtifactName="bad_name",
    )
    assert code == "ValidationException" and "at 'artifactName'" in message


@pytest.mark.parametrize("noun", ["action", "context"])
def test_actions_and_contexts_are_named_and_described_by_name_or_arn(
    sagemaker: Any, noun: str
) -> None:
    title = noun.title()
    name = unique(f"Lineage-{noun}")
    extra = {"Status": "InProgress"} if noun == "action" else {}
    created = getattr(sagemaker, f"create_{noun}")(
        **{
            f"{title}Name": name,
            f"{title}Type": "ModelDeployment" if noun == "action" else "Endpoint",
        },
        Source={
            "SourceUri": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
            "SourceType": "ARN",
            "SourceId": "1",
        },
        Description="made by a test",
        Properties={"k": "v"},
        Tags=[{"Key": "t", "Value": "1"}],
        **extra,
    )
    arn = created[f"{title}Arn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:{noun}/{name.lower()}"
    describe = getattr(sagemaker, f"describe_{noun}")
    by_name, by_arn = describe(**{f"{title}Name": name}), describe(**{f"{title}Name": arn})
    assert by_name == {**by_arn, "ResponseMetadata": by_name["ResponseMetadata"]}
    assert by_name[f"{title}Name"] == name and by_name["Description"] == "made by a test"
    assert by_name["Source"]["SourceType"] == "ARN" and by_name["Properties"] == {"k": "v"}
    if noun == "action":
        assert by_name["Status"] == "InProgress"
        sagemaker.update_action(ActionName=name, Status="Completed", Description="done")
        assert describe(ActionName=name)["Status"] == "Completed"
    code, message = error_of(
        getattr(sagemaker, f"create_{noun}"),
        **{f"{title}Name": name, f"{title}Type": "T"},
        Source={"SourceUri": "u"},
    )
    assert (code, message) == ("ValidationException", f"{title} '{arn}' already exists.")
    deleted = getattr(sagemaker, f"delete_{noun}")(**{f"{title}Name": name})
    assert deleted[f"{title}Arn"] == arn
    code, message = error_of(describe, **{f"{title}Name": name})
    assert (code, message) == ("ResourceNotFound", f"{title} '{arn}' does not exist.")
    code, _ = error_of(getattr(sagemaker, f"delete_{noun}"), **{f"{title}Name": name})
    assert code == "ResourceNotFound"
    code, _ = error_of(
        getattr(sagemaker, f"update_{noun}"), **{f"{title}Name": name, "Description": "x"}
    )
    assert code == "ResourceNotFound"


def test_list_filters_sorts_and_pages(sagemaker: Any) -> None:
    kind = unique("Kind")
    before = datetime.now(UTC) - timedelta(seconds=1)
    names = [unique("listed") for _ in range(5)]
    for index, name in enumerate(names):
        sagemaker.create_context(
            ContextName=name,
            ContextType=kind if index < 4 else "Other",
            Source={"SourceUri": f"uri-{index % 2}-{kind}"},
        )
        time.sleep(0.01)
    mine = sagemaker.list_contexts(ContextType=kind, MaxResults=100)["ContextSummaries"]
    assert [s["ContextName"] for s in mine] == names[3::-1]  # CreationTime, Descending by default
    by_uri = sagemaker.list_contexts(SourceUri=f"uri-0-{kind}")["ContextSummaries"]
    assert [s["ContextName"] for s in by_uri] == [names[4], names[2], names[0]]
    ascending = sagemaker.list_contexts(ContextType=kind, SortBy="Name", SortOrder="Ascending")[
        "ContextSummaries"
    ]
    assert [s["ContextName"] for s in ascending] == sorted(names[:4])
    middle = sagemaker.describe_context(ContextName=names[2])["CreationTime"]
    after = sagemaker.list_contexts(ContextType=kind, CreatedAfter=middle)["ContextSummaries"]
    assert [s["ContextName"] for s in after] == [names[3], names[2]]  # on or after
    older = sagemaker.list_contexts(ContextType=kind, CreatedBefore=middle, CreatedAfter=before)[
        "ContextSummaries"
    ]
    assert [s["ContextName"] for s in older] == [names[2], names[1], names[0]]

    seen, token = [], None
    while True:
        page = sagemaker.list_contexts(
            ContextType=kind, MaxResults=3, **({"NextToken": token} if token else {})
        )
        assert len(page["ContextSummaries"]) <= 3
        seen += [s["ContextName"] for s in page["ContextSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names[3::-1]
    code, _ = error_of(sagemaker.list_contexts, ContextType="Other", NextToken=token or "x")
    assert code == "ValidationException"
    paginated = [
        s["ContextName"]
        for p in sagemaker.get_paginator("list_contexts").paginate(
            ContextType=kind, PaginationConfig={"PageSize": 2}
        )
        for s in p["ContextSummaries"]
    ]
    assert paginated == names[3::-1]
    for name in names:
        sagemaker.delete_context(ContextName=name)


def test_list_actions_by_type_and_artifacts_by_type(sagemaker: Any) -> None:
    kind = unique("Step")
    names = [unique("step") for _ in range(2)]
    for name in names:
        sagemaker.create_action(ActionName=name, ActionType=kind, Source={"SourceUri": "s"})
    listed = sagemaker.list_actions(ActionType=kind)["ActionSummaries"]
    assert {s["ActionName"] for s in listed} == set(names)
    assert all(s["Status"] == "Unknown" for s in listed)
    artifact_type = unique("Report")
    arn = sagemaker.create_artifact(
        Source={"SourceUri": f"s3://{unique('r')}/r.json"}, ArtifactType=artifact_type
    )["ArtifactArn"]
    assert [
        s["ArtifactArn"]
        for s in sagemaker.list_artifacts(ArtifactType=artifact_type)["ArtifactSummaries"]
    ] == [arn]
    code, message = error_of(sagemaker.list_artifacts, SortBy="Name")
    assert code == "ValidationException" and "at 'sortBy'" in message
    for name in names:
        sagemaker.delete_action(ActionName=name)
    sagemaker.delete_artifact(ArtifactArn=arn)
