"""Pipelines through boto3: definitions refused naming what is wrong, versions, listing,
definitions from S3, and deletion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.pipelines.conftest import (
    create_and_start,
    token,
    unique,
    wait_execution,
    wait_step,
)
from tests.services.pipelines.definitions import ROLE, definition, get, join, parameter, s3_input
from tests.services.pipelines.definitions import processing as processing_step


def processing(name: str, code: str = "print(1)", **extra: Any) -> dict[str, Any]:
    return processing_step(name, code, outputs=(), **extra)


def create(sagemaker: Any, name: str, text: str, **extra: Any) -> dict[str, Any]:
    return sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=text,
        RoleArn=ROLE,
        ClientRequestToken=token(),
        **extra,
    )


@pytest.mark.parametrize(
    ("steps", "parameters", "words"),
    [
        (
            [processing("A", inputs=[s3_input("in", get("Parameters.Input"))])],
            [],
            "refers to Parameters.Input, which is not a parameter",
        ),
        (
            [
                processing(
                    "A",
                    inputs=[
                        s3_input(
                            "in",
                            get("Steps.Ghost.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri"),
                        )
                    ],
                )
            ],
            [],
            "there is no step named 'Ghost'",
        ),
        (
            [
                processing("A"),
                processing(
                    "B", inputs=[s3_input("in", get("Steps.A.ModelArtifacts.S3ModelArtifacts"))]
                ),
            ],
            [],
            "unknown property Steps.A.ModelArtifacts.S3ModelArtifacts",
        ),
        (
            [processing("A", DependsOn=["B"]), processing("B", DependsOn=["A"])],
            [],
            "cycle: A -> B -> A",
        ),
        ([processing("A", DependsOn=["Z"])], [], "DependsOn 'Z'"),
    ],
)
def test_a_definition_referring_to_nothing_is_refused_naming_it(
    sagemaker: Any, steps: list[Any], parameters: list[Any], words: str
) -> None:
    with pytest.raises(ClientError) as raised:
        create(sagemaker, unique("invalid"), definition(steps, parameters))
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert words in raised.value.response["Error"]["Message"]


def test_start_parameters_are_checked(sagemaker: Any) -> None:
    name = unique("params")
    steps = [processing("A", inputs=[s3_input("in", join("/", "s3://b", get("Parameters.Kind")))])]
    create(
        sagemaker,
        name,
        definition(
            steps, [parameter("Kind", "String", "a", ["a", "b"]), parameter("Count", "Integer", 1)]
        ),
    )
    for given, words in (
        ([{"Name": "Kind", "Value": "c"}], "not one of its EnumValues"),
        ([{"Name": "Count", "Value": "many"}], "'many' is not an integer"),
        ([{"Name": "Other", "Value": "x"}], "'Other' is not a parameter of the pipeline"),
    ):
        with pytest.raises(ClientError, match=words):
            sagemaker.start_pipeline_execution(
                PipelineName=name, PipelineParameters=given, ClientRequestToken=token()
            )
    with pytest.raises(ClientError) as raised:
        sagemaker.start_pipeline_execution(
            PipelineName=unique("missing"), ClientRequestToken=token()
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_versions_follow_updates_and_executions_start_from_any(sagemaker: Any) -> None:
    name = unique("versions")
    first = definition([processing("One")])
    arn = create(
        sagemaker, name, first, PipelineDescription="v1", Tags=[{"Key": "team", "Value": "ml"}]
    )["PipelineArn"]
    with pytest.raises(ClientError, match="already exists"):
        create(sagemaker, name, first)
    updated = sagemaker.update_pipeline(
        PipelineName=name,
        PipelineDefinition=definition([processing("Two")]),
        PipelineDescription="v2",
        PipelineVersionAliases=["latest"],
    )
    assert (updated["PipelineArn"], updated["PipelineVersionId"]) == (arn, 2)
    described = sagemaker.describe_pipeline(PipelineName=name)
    assert described["PipelineDescription"] == "v2" and '"Two"' in described["PipelineDefinition"]
    assert (
        '"One"'
        in sagemaker.describe_pipeline(PipelineName=arn, PipelineVersionId=1)["PipelineDefinition"]
    )
    sagemaker.update_pipeline_version(
        PipelineArn=arn,
        PipelineVersionId=1,
        PipelineVersionDisplayName="first",
        PipelineVersionAliasOperations={"Add": ["stable"]},
    )
    assert (
        sagemaker.describe_pipeline(PipelineName=name, PipelineVersionAlias="stable")[
            "PipelineVersionDisplayName"
        ]
        == "first"
    )
    execution = sagemaker.start_pipeline_execution(
        PipelineName=name, PipelineVersionId=1, ClientRequestToken=token()
    )["PipelineExecutionArn"]
    wait_execution(sagemaker, execution)
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution)["PipelineVersionId"]
        == 1
    )
    assert "One" in {
        s["StepName"]
        for s in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution)[
            "PipelineExecutionSteps"
        ]
    }
    versions = sagemaker.list_pipeline_versions(PipelineName=arn, SortOrder="Ascending")[
        "PipelineVersionSummaries"
    ]
    assert [(v["PipelineVersionId"], v.get("PipelineVersionAliases")) for v in versions] == [
        (1, ["stable"]),
        (2, ["latest"]),
    ]
    assert versions[0]["LastExecutionPipelineExecutionArn"] == execution
    assert {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]} == {
        "team": "ml"
    }


def test_a_definition_from_s3_and_listing_by_prefix(
    sagemaker: Any, s3: Any, pipelines_bucket: str
) -> None:
    prefix = unique("listed")
    s3.put_object(
        Bucket=pipelines_bucket,
        Key=f"definitions/{prefix}.json",
        Body=definition([processing("FromS3")]).encode(),
    )
    for suffix in ("a", "b"):
        sagemaker.create_pipeline(
            PipelineName=f"{prefix}-{suffix}",
            RoleArn=ROLE,
            ClientRequestToken=token(),
            PipelineDefinitionS3Location={
                "Bucket": pipelines_bucket,
                "ObjectKey": f"definitions/{prefix}.json",
            },
        )
    listed = sagemaker.list_pipelines(
        PipelineNamePrefix=prefix, SortBy="Name", SortOrder="Ascending"
    )["PipelineSummaries"]
    assert [p["PipelineName"] for p in listed] == [f"{prefix}-a", f"{prefix}-b"]
    assert (
        json.loads(sagemaker.describe_pipeline(PipelineName=f"{prefix}-a")["PipelineDefinition"])[
            "Steps"
        ][0]["Name"]
        == "FromS3"
    )
    with pytest.raises(ClientError, match="cannot be read"):
        sagemaker.create_pipeline(
            PipelineName=unique("nowhere"),
            RoleArn=ROLE,
            ClientRequestToken=token(),
            PipelineDefinitionS3Location={
                "Bucket": pipelines_bucket,
                "ObjectKey": "definitions/none.json",
            },
        )


def test_a_pipeline_is_deleted_with_its_executions_once_none_runs(sagemaker: Any) -> None:
    name = unique("deleted")
    arn = create_and_start(
        sagemaker, name, definition([processing("Sleep", "import time; time.sleep(60)")])
    )
    wait_step(sagemaker, arn, "Sleep", ("Executing",))
    with pytest.raises(ClientError) as raised:
        sagemaker.delete_pipeline(PipelineName=name, ClientRequestToken=token())
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    wait_execution(sagemaker, arn, timeout=60)
    assert sagemaker.delete_pipeline(PipelineName=name, ClientRequestToken=token())[
        "PipelineArn"
    ].endswith(name)
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_pipeline(PipelineName=name)
