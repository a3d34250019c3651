"""Who registered and who approved, as the signing keys say; all of it survives a restart."""

from __future__ import annotations

import json
from pathlib import Path

from tests.edge.auth_server import client, create_key, start_server
from tests.services.registry.conftest import inference_specification

MODEL_DATA = "s3://registry-bucket/output/model.tar.gz"


def test_creator_and_approver_are_recorded_and_survive_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    alice, bob = create_key(home, "alice"), create_key(home, "bob")
    server = start_server(home, "--auth")
    try:
        as_alice, as_bob = client("sagemaker", server.endpoint_url, alice), client("sagemaker", server.endpoint_url, bob)
        as_alice.create_model_package_group(ModelPackageGroupName="Fraud")
        policy = json.dumps({"Version": "2012-10-17", "Statement": []})
        as_alice.put_model_package_group_policy(ModelPackageGroupName="Fraud", ResourcePolicy=policy)
        first = as_alice.create_model_package(
            ModelPackageGroupName="Fraud", InferenceSpecification=inference_specification(MODEL_DATA),
            ClientToken="before-restart",
        )["ModelPackageArn"]
        second = as_alice.create_model_package(
            ModelPackageGroupName="Fraud", InferenceSpecification=inference_specification(MODEL_DATA),
        )["ModelPackageArn"]
        as_bob.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Approved", ApprovalDescription="ok")
        before = as_bob.describe_model_package(ModelPackageName=second)
        assert before["CreatedBy"]["IamIdentity"]["Arn"] == "arn:aws:iam::123456789012:user/alice"
        assert before["LastModifiedBy"]["IamIdentity"]["Arn"] == "arn:aws:iam::123456789012:user/bob"
        assert before["CreatedBy"]["IamIdentity"]["PrincipalId"] != before["LastModifiedBy"]["IamIdentity"]["PrincipalId"]
        group_before = as_bob.describe_model_package_group(ModelPackageGroupName="Fraud")
        assert group_before["CreatedBy"]["IamIdentity"]["Arn"] == "arn:aws:iam::123456789012:user/alice"
    finally:
        server.kill()

    server = start_server(home, "--auth")
    try:
        as_alice = client("sagemaker", server.endpoint_url, alice)
        after = as_alice.describe_model_package(ModelPackageName=second)
        assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {
            k: v for k, v in before.items() if k != "ResponseMetadata"
        }
        assert as_alice.describe_model_package_group(ModelPackageGroupName="Fraud")["CreatedBy"] == group_before["CreatedBy"]
        assert as_alice.get_model_package_group_policy(ModelPackageGroupName="Fraud")["ResourcePolicy"] == policy
        retried = as_alice.create_model_package(
            ModelPackageGroupName="Fraud", InferenceSpecification=inference_specification(MODEL_DATA),
            ClientToken="before-restart",
        )["ModelPackageArn"]
        assert retried == first
        third = as_alice.create_model_package(
            ModelPackageGroupName="Fraud", InferenceSpecification=inference_specification(MODEL_DATA),
        )["ModelPackageArn"]
        assert third.endswith("model-package/fraud/3")
        listed = as_alice.list_model_packages(ModelPackageGroupName="Fraud")["ModelPackageSummaryList"]
        assert [(s["ModelPackageVersion"], s["ModelApprovalStatus"]) for s in listed] == [
            (1, "PendingManualApproval"), (2, "Approved"), (3, "PendingManualApproval"),
        ]
    finally:
        server.stop()
