"""Model package groups through boto3: create, describe, list, delete, resource policies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.registry.conftest import CALLER_ARN, inference_specification
from tests.services.training.jobs import unique

GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{}"


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_group_is_created_described_listed_tagged_and_deleted(sagemaker: Any) -> None:
    name = unique("Churn")
    arn = sagemaker.create_model_package_group(
        ModelPackageGroupName=name, ModelPackageGroupDescription="churn models",
        Tags=[{"Key": "team", "Value": "risk"}],
    )["ModelPackageGroupArn"]
    assert arn == GROUP_ARN.format(name.lower())
    for key in (name, arn, name.upper()):
        described = sagemaker.describe_model_package_group(ModelPackageGroupName=key)
        assert described["ModelPackageGroupName"] == name
        assert described["ModelPackageGroupArn"] == arn
        assert described["ModelPackageGroupDescription"] == "churn models"
        assert described["ModelPackageGroupStatus"] == "Completed"
        assert described["CreatedBy"]["IamIdentity"]["Arn"] == CALLER_ARN
        assert described["CreationTime"].year >= 2024
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "risk"}]
    listed = sagemaker.list_model_package_groups(NameContains=name)["ModelPackageGroupSummaryList"]
    assert [(g["ModelPackageGroupName"], g["ModelPackageGroupStatus"]) for g in listed] == [(name, "Completed")]

    sagemaker.delete_model_package_group(ModelPackageGroupName=arn)
    code, message = error_of(sagemaker.describe_model_package_group, ModelPackageGroupName=name)
    assert (code, message) == ("ValidationException", f"ModelPackageGroup {arn} does not exist.")
    assert sagemaker.list_model_package_groups(NameContains=name)["ModelPackageGroupSummaryList"] == []


def test_group_errors_are_sagemakers(sagemaker: Any, group: str) -> None:
    arn = GROUP_ARN.format(group.lower())
    code, message = error_of(sagemaker.create_model_package_group, ModelPackageGroupName=group)
    assert (code, message) == ("ValidationException", f"Model Package Group already exists: {arn}")
    missing = unique("missing")
    code, message = error_of(sagemaker.delete_model_package_group, ModelPackageGroupName=missing)
    assert (code, message) == ("ValidationException", f"ModelPackageGroup {GROUP_ARN.format(missing)} does not exist.")
    code, message = error_of(sagemaker.create_model_package_group, ModelPackageGroupName="bad_name!")
    assert code == "ValidationException" and "modelPackageGroupName" in message


def test_list_groups_filters_sorts_and_pages(sagemaker: Any) -> None:
    prefix = unique("lst")
    names = [f"{prefix}-{suffix}" for suffix in ("b", "a", "c")]
    for name in names:
        sagemaker.create_model_package_group(ModelPackageGroupName=name)

    def listed(**kwargs: Any) -> list[str]:
        page = sagemaker.list_model_package_groups(NameContains=prefix.upper(), **kwargs)
        return [g["ModelPackageGroupName"] for g in page["ModelPackageGroupSummaryList"]]

    assert listed() == names  # CreationTime, Ascending by default (as botocore documents)
    assert listed(SortBy="Name") == sorted(names)
    assert listed(SortBy="Name", SortOrder="Descending") == sorted(names, reverse=True)
    first = sagemaker.list_model_package_groups(NameContains=prefix, MaxResults=2)
    assert [g["ModelPackageGroupName"] for g in first["ModelPackageGroupSummaryList"]] == names[:2]
    rest = sagemaker.list_model_package_groups(NameContains=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert [g["ModelPackageGroupName"] for g in rest["ModelPackageGroupSummaryList"]] == names[2:]
    assert "NextToken" not in rest
    second = sagemaker.describe_model_package_group(ModelPackageGroupName=names[1])["CreationTime"]
    assert listed(CreationTimeAfter=second) == names[2:]
    assert listed(CreationTimeBefore=second) == names[:1]
    assert listed(CrossAccountFilterOption="CrossAccount") == []
    assert listed(CrossAccountFilterOption="SameAccount") == names
    code, _ = error_of(sagemaker.list_model_package_groups, NextToken="not-a-token")
    assert code == "ValidationException"


def test_a_resource_policy_is_kept_and_returned(sagemaker: Any, group: str) -> None:
    arn = GROUP_ARN.format(group.lower())
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AddPermModelPackageGroup",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": ["sagemaker:DescribeModelPackageGroup"],
                    "Resource": arn,
                }
            ],
        }
    )
    code, message = error_of(sagemaker.get_model_package_group_policy, ModelPackageGroupName=group)
    assert code == "ValidationException" and arn in message
    put = sagemaker.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=policy)
    assert put["ModelPackageGroupArn"] == arn
    assert sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"] == policy
    code, message = error_of(
        sagemaker.put_model_package_group_policy, ModelPackageGroupName=group, ResourcePolicy="{not json"
    )
    assert code == "ValidationException" and "ResourcePolicy" in message
    assert sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"] == policy
    sagemaker.delete_model_package_group_policy(ModelPackageGroupName=group)
    code, _ = error_of(sagemaker.get_model_package_group_policy, ModelPackageGroupName=group)
    assert code == "ValidationException"
    code, _ = error_of(sagemaker.delete_model_package_group_policy, ModelPackageGroupName=group)
    assert code == "ValidationException"
    missing = unique("missing")
    code, message = error_of(sagemaker.put_model_package_group_policy, ModelPackageGroupName=missing, ResourcePolicy=policy)
    assert message == f"ModelPackageGroup {GROUP_ARN.format(missing)} does not exist."


def test_a_group_with_versions_cannot_be_deleted(sagemaker: Any, group: str) -> None:
    version = sagemaker.create_model_package(
        ModelPackageGroupName=group, InferenceSpecification=inference_specification("s3://bucket/model.tar.gz")
    )["ModelPackageArn"]
    code, message = error_of(sagemaker.delete_model_package_group, ModelPackageGroupName=group)
    assert code == "ConflictException" and version in message
    sagemaker.delete_model_package(ModelPackageName=version)
    sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    code, message = error_of(
        sagemaker.create_model_package, ModelPackageGroupName=group,
        InferenceSpecification=inference_specification("s3://bucket/model.tar.gz"),
    )
    assert (code, message) == ("ValidationException", "Model Package Group does not exist.")
