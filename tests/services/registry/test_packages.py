"""Model packages through boto3: versions and unversioned packages, listing, updates, errors."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.registry.conftest import CALLER_ARN, inference_specification
from tests.services.training.jobs import unique

PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/{}"
MODEL_DATA = "s3://registry-bucket/output/model.tar.gz"
REPORT = {"ContentType": "application/json", "S3Uri": "s3://registry-bucket/reports/statistics.json"}


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def register(sagemaker: Any, group: str, **extra: Any) -> str:
    return sagemaker.create_model_package(
        ModelPackageGroupName=group, InferenceSpecification=inference_specification(MODEL_DATA), **extra
    )["ModelPackageArn"]


def test_a_version_keeps_what_it_was_registered_with(sagemaker: Any, group: str) -> None:
    card = json.dumps({"model_overview": {"model_creator": "risk team"}})
    request = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": "first try",
        "InferenceSpecification": inference_specification(
            MODEL_DATA,
            SupportedRealtimeInferenceInstanceTypes=["ml.m5.large"],
            SupportedTransformInstanceTypes=["ml.m5.large"],
        ),
        "ModelMetrics": {
            "ModelQuality": {"Statistics": REPORT, "Constraints": REPORT},
            "Bias": {"Report": REPORT},
        },
        "DriftCheckBaselines": {"ModelDataQuality": {"Statistics": REPORT}, "Bias": {"ConfigFile": REPORT}},
        "CustomerMetadataProperties": {"dataset": "diabetes", "owner": "risk"},
        "MetadataProperties": {"CommitId": "abc123", "Repository": "git@example.com:risk.git"},
        "ModelCard": {"ModelCardContent": card, "ModelCardStatus": "Draft"},
        "Domain": "MACHINE_LEARNING",
        "Task": "REGRESSION",
        "SamplePayloadUrl": "s3://registry-bucket/payloads/sample.tar.gz",
        "SourceAlgorithmSpecification": {"SourceAlgorithms": [{"AlgorithmName": "xgboost", "ModelDataUrl": MODEL_DATA}]},
    }
    arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
    assert arn == PACKAGE_ARN.format(f"{group.lower()}/1")
    for key in (arn, f"{group}/1"):
        described = sagemaker.describe_model_package(ModelPackageName=key)
        assert described["ModelPackageArn"] == arn
    assert described["ModelPackageName"] == group  # a version is named by its group, as SageMaker answers
    assert described["ModelPackageGroupName"] == group
    assert described["ModelPackageVersion"] == 1
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["ModelPackageStatus"] == "Completed"
    assert described["ModelPackageStatusDetails"] == {"ValidationStatuses": [], "ImageScanStatuses": []}
    assert described["CreatedBy"]["IamIdentity"]["Arn"] == CALLER_ARN
    assert described["LastModifiedTime"] == described["CreationTime"]
    for member, value in request.items():
        if member != "ModelPackageGroupName":
            assert described[member] == value, member


def test_unversioned_packages_are_named_and_listed_apart(sagemaker: Any, group: str) -> None:
    name = unique("Unversioned")
    specification = inference_specification(
        MODEL_DATA,
        SupportedRealtimeInferenceInstanceTypes=["ml.m5.large"],
        SupportedTransformInstanceTypes=["ml.m5.xlarge"],
    )
    arn = sagemaker.create_model_package(
        ModelPackageName=name, InferenceSpecification=specification, CertifyForMarketplace=False,
        Tags=[{"Key": "kind", "Value": "unversioned"}],
    )["ModelPackageArn"]
    assert arn == PACKAGE_ARN.format(name.lower())
    for key in (name, arn):
        described = sagemaker.describe_model_package(ModelPackageName=key)
        assert described["ModelPackageName"] == name
        assert "ModelPackageVersion" not in described and "ModelPackageGroupName" not in described
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "kind", "Value": "unversioned"}]
    register(sagemaker, group)

    def names(**kwargs: Any) -> list[str]:
        summaries = sagemaker.list_model_packages(**kwargs)["ModelPackageSummaryList"]
        return [s["ModelPackageArn"] for s in summaries]

    version = PACKAGE_ARN.format(f"{group.lower()}/1")
    assert names(NameContains=name.lower()) == [arn]  # Unversioned by default
    assert names(NameContains=group) == []
    assert names(NameContains=group, ModelPackageType="Versioned") == [version]
    assert names(NameContains=group, ModelPackageType="Both") == [version]
    assert names(ModelPackageGroupName=group) == [version]
    assert names(ModelPackageGroupName=group, ModelPackageType="Unversioned") == []

    code, message = error_of(sagemaker.create_model_package, ModelPackageName=name, InferenceSpecification=specification)
    assert (code, message) == ("ValidationException", f"Model Package already exists: {arn}")
    without = inference_specification(MODEL_DATA)
    code, message = error_of(sagemaker.create_model_package, ModelPackageName=unique("u"), InferenceSpecification=without)
    assert code == "ValidationException" and "SupportedRealtimeInferenceInstanceTypes" in message


def test_list_versions_filters_sorts_and_pages(sagemaker: Any, group: str) -> None:
    arns = [register(sagemaker, group) for _ in range(3)]
    sagemaker.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved")

    def listed(**kwargs: Any) -> list[int]:
        summaries = sagemaker.list_model_packages(ModelPackageGroupName=group, **kwargs)["ModelPackageSummaryList"]
        return [s["ModelPackageVersion"] for s in summaries]

    assert listed() == [1, 2, 3]  # CreationTime, Ascending by default
    assert listed(SortOrder="Descending") == [3, 2, 1]
    assert listed(ModelApprovalStatus="Approved") == [2]
    assert listed(ModelApprovalStatus="PendingManualApproval") == [1, 3]
    assert listed(ModelApprovalStatus="Rejected") == []
    second = sagemaker.describe_model_package(ModelPackageName=arns[1])["CreationTime"]
    assert listed(CreationTimeAfter=second) == [3]
    assert listed(CreationTimeBefore=second) == [1]
    page = sagemaker.list_model_packages(ModelPackageGroupName=group, MaxResults=2)
    assert [s["ModelPackageVersion"] for s in page["ModelPackageSummaryList"]] == [1, 2]
    rest = sagemaker.list_model_packages(ModelPackageGroupName=group, MaxResults=2, NextToken=page["NextToken"])
    assert [s["ModelPackageVersion"] for s in rest["ModelPackageSummaryList"]] == [3]
    summary = rest["ModelPackageSummaryList"][0]
    assert summary["ModelPackageName"] == group and summary["ModelPackageStatus"] == "Completed"
    group_arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{group.lower()}"
    assert listed() == [s["ModelPackageVersion"] for s in sagemaker.list_model_packages(
        ModelPackageGroupName=group_arn)["ModelPackageSummaryList"]]
    assert sagemaker.list_model_packages(ModelPackageGroupName=unique("nogroup"))["ModelPackageSummaryList"] == []


def test_updates_record_approval_who_and_when(sagemaker: Any, group: str) -> None:
    arn = register(sagemaker, group, CustomerMetadataProperties={"a": "1", "b": "2"})
    created = sagemaker.describe_model_package(ModelPackageName=arn)
    answer = sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="AUC 0.91 on holdout",
        CustomerMetadataProperties={"c": "3", "a": "10"}, CustomerMetadataPropertiesToRemove=["b"],
    )
    assert answer["ModelPackageArn"] == arn
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "AUC 0.91 on holdout"
    assert described["CustomerMetadataProperties"] == {"a": "10", "c": "3"}
    assert described["LastModifiedBy"]["IamIdentity"] == {
        "Arn": CALLER_ARN, "PrincipalId": "AROASAGEBOXEXECUTION1:sagebox",
    }
    assert described["LastModifiedTime"] > created["LastModifiedTime"]
    assert described["CreationTime"] == created["CreationTime"]

    extra = {"Name": "compiled", "Description": "for ml.c5", **inference_specification("s3://registry-bucket/neo.tar.gz")}
    card = {"ModelCardContent": json.dumps({"intended_uses": {"purpose_of_model": "demo"}}), "ModelCardStatus": "PendingReview"}
    replaced = inference_specification("s3://registry-bucket/v2/model.tar.gz")
    sagemaker.update_model_package(
        ModelPackageArn=arn, AdditionalInferenceSpecificationsToAdd=[extra], ModelCard=card,
        InferenceSpecification=replaced, ModelApprovalStatus="Rejected",
    )
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["AdditionalInferenceSpecifications"] == [extra]
    assert described["ModelCard"] == card
    assert described["InferenceSpecification"] == replaced
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["ApprovalDescription"] == "AUC 0.91 on holdout"

    code, message = error_of(sagemaker.update_model_package, ModelPackageArn=arn, AdditionalInferenceSpecificationsToAdd=[extra])
    assert code == "ValidationException" and "'compiled'" in message
    code, message = error_of(
        sagemaker.update_model_package, ModelPackageArn=arn,
        CustomerMetadataProperties={"x": "1"}, CustomerMetadataPropertiesToRemove=["x"],
    )
    assert code == "ValidationException" and "x" in message
    code, message = error_of(sagemaker.update_model_package, ModelPackageArn=arn, ModelCard={"ModelCardContent": "{oops"})
    assert code == "ValidationException" and "ModelCardContent" in message
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelCard"] == card  # a refused update changes nothing


def test_create_and_update_errors_name_the_member(sagemaker: Any, group: str) -> None:
    specification = inference_specification(MODEL_DATA)
    code, message = error_of(
        sagemaker.create_model_package, ModelPackageGroupName=group, InferenceSpecification=specification,
        ModelApprovalStatus="Maybe",
    )
    assert code == "ValidationException"
    assert "modelApprovalStatus" in message and "Approved" in message and "PendingManualApproval" in message
    arn = register(sagemaker, group)
    code, message = error_of(sagemaker.update_model_package, ModelPackageArn=arn, ModelApprovalStatus="approved")
    assert code == "ValidationException" and "modelApprovalStatus" in message

    missing_version = PACKAGE_ARN.format(f"{group.lower()}/99")
    for call, key in (
        (sagemaker.describe_model_package, {"ModelPackageName": missing_version}),
        (sagemaker.describe_model_package, {"ModelPackageName": f"{group}/99"}),
        (sagemaker.delete_model_package, {"ModelPackageName": missing_version}),
        (sagemaker.update_model_package, {"ModelPackageArn": missing_version, "ModelApprovalStatus": "Approved"}),
    ):
        assert error_of(call, **key) == ("ValidationException", f"ModelPackage {missing_version} does not exist.")

    cases = [
        ({"ModelPackageGroupName": unique("nogroup")}, "Model Package Group does not exist."),
        ({"ModelPackageGroupName": group, "ModelPackageName": "both"}, "Both ModelPackageName and ModelPackageGroupName"),
        ({}, "Missing ARN"),
        ({"ModelPackageGroupName": group, "Tags": [{"Key": "k", "Value": "v"}]}, "Tags"),
        ({"ModelPackageGroupName": group, "ModelMetrics": {"ModelQuality": {"Statistics": {
            "ContentType": "application/json", "S3Uri": "s3://bucket-only"}}}}, "ModelMetrics.ModelQuality.Statistics.S3Uri"),
        ({"ModelPackageGroupName": group, "DriftCheckBaselines": {"ModelDataQuality": {"Constraints": {
            "ContentType": "application/json", "S3Uri": "s3://b/folder/"}}}}, "DriftCheckBaselines"),
        ({"ModelPackageGroupName": group, "ModelCard": {"ModelCardContent": "[1, 2]"}}, "ModelCardContent"),
        ({"ModelPackageGroupName": group, "SamplePayloadUrl": "s3://b/payload.json"}, ".tar.gz"),
        ({"ModelPackageGroupName": group, "CertifyForMarketplace": True}, "CertifyForMarketplace"),
    ]
    for extra, wording in cases:
        code, message = error_of(sagemaker.create_model_package, InferenceSpecification=specification, **extra)
        assert code == "ValidationException" and wording in message, (extra, message)
    no_image = {"Containers": [{"ModelDataUrl": MODEL_DATA}]}
    code, message = error_of(sagemaker.create_model_package, ModelPackageGroupName=group, InferenceSpecification=no_image)
    assert code == "ValidationException" and "InferenceSpecification.Containers[0].Image" in message
    # none of the refused requests took a version number
    assert register(sagemaker, group).endswith(f"{group.lower()}/2")


def test_concurrent_registrations_number_versions_without_gaps(sagemaker: Any, group: str) -> None:
    count = 24
    with ThreadPoolExecutor(max_workers=count) as pool:
        arns = list(pool.map(lambda _: register(sagemaker, group), range(count)))
    versions = sorted(int(arn.rsplit("/", 1)[1]) for arn in arns)
    assert versions == list(range(1, count + 1))
    listed: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = sagemaker.list_model_packages(ModelPackageGroupName=group, MaxResults=10, **token)
        listed.extend(page["ModelPackageSummaryList"])
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    # creation order is version order
    assert [s["ModelPackageVersion"] for s in listed] == list(range(1, count + 1))


def test_a_client_token_makes_registration_idempotent(sagemaker: Any, group: str) -> None:
    first = register(sagemaker, group, ClientToken="retry-1")
    assert register(sagemaker, group, ClientToken="retry-1") == first
    assert register(sagemaker, group, ClientToken="retry-2").endswith("/2")
    assert len(sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]) == 2


def test_deleted_versions_keep_their_numbers(sagemaker: Any, group: str) -> None:
    arns = [register(sagemaker, group) for _ in range(3)]
    sagemaker.delete_model_package(ModelPackageName=arns[2])
    code, message = error_of(sagemaker.describe_model_package, ModelPackageName=arns[2])
    assert (code, message) == ("ValidationException", f"ModelPackage {arns[2]} does not exist.")
    assert register(sagemaker, group).endswith("/4")  # a number is never handed out twice


def test_batch_describe_answers_versions_and_names_the_rest(sagemaker: Any, group: str) -> None:
    arns = [register(sagemaker, group) for _ in range(2)]
    unversioned = sagemaker.create_model_package(
        ModelPackageName=unique("solo"),
        InferenceSpecification=inference_specification(
            MODEL_DATA, SupportedRealtimeInferenceInstanceTypes=["ml.m5.large"],
            SupportedTransformInstanceTypes=["ml.m5.large"],
        ),
    )["ModelPackageArn"]
    missing = PACKAGE_ARN.format(f"{group.lower()}/7")
    answer = sagemaker.batch_describe_model_package(ModelPackageArnList=[*arns, missing, unversioned])
    summaries = answer["ModelPackageSummaries"]
    assert sorted(summaries) == sorted(arns)
    assert summaries[arns[1]]["ModelPackageVersion"] == 2
    assert summaries[arns[1]]["ModelPackageGroupName"] == group
    assert summaries[arns[1]]["InferenceSpecification"] == inference_specification(MODEL_DATA)
    assert summaries[arns[1]]["ModelApprovalStatus"] == "PendingManualApproval"
    errors = answer["BatchDescribeModelPackageErrorMap"]
    assert sorted(errors) == sorted([missing, unversioned])
    assert errors[missing]["ErrorResponse"] == f"ModelPackage {missing} does not exist."


def test_deleting_a_group_while_versions_are_registered_leaves_no_orphan(sagemaker: Any) -> None:
    for _ in range(4):
        name = unique("race")
        sagemaker.create_model_package_group(ModelPackageGroupName=name)

        def attempt(index: int, name: str = name) -> tuple[str, str]:
            try:
                if index == 0:  # submitted first, so it sometimes wins and sometimes loses
                    sagemaker.delete_model_package_group(ModelPackageGroupName=name)
                    return "deleted", ""
                return "registered", register(sagemaker, name)
            except ClientError as exc:
                return exc.response["Error"]["Code"], exc.response["Error"]["Message"]

        with ThreadPoolExecutor(max_workers=7) as pool:
            outcomes = list(pool.map(attempt, range(7)))
        registered = sorted(arn for kind, arn in outcomes if kind == "registered")
        listed = sagemaker.list_model_packages(NameContains=name, ModelPackageType="Versioned")["ModelPackageSummaryList"]
        assert sorted(s["ModelPackageArn"] for s in listed) == registered
        if ("deleted", "") in outcomes:
            assert registered == []
            assert all(message == "Model Package Group does not exist." for kind, message in outcomes if kind == "ValidationException")
        else:
            assert registered and outcomes[0][0] == "ConflictException"
            for arn in registered:
                sagemaker.delete_model_package(ModelPackageName=arn)
            sagemaker.delete_model_package_group(ModelPackageGroupName=name)
