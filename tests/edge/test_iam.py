"""IAM through boto3: every role exists and, with no policy enforced, every action is allowed."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture(scope="module")
def iam(sagebox_server: Any) -> Any:
    return boto3.client("iam")


def test_get_role_trusts_sagemaker(iam: Any) -> None:
    role = iam.get_role(RoleName="SageMakerRole")["Role"]
    assert role["Arn"] == ROLE
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_simulate_principal_policy_allows_every_action(iam: Any) -> None:
    actions = [f"sagemaker:Action{i}" for i in range(12)] + ["s3:GetObject"]
    pages = iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=ROLE, ActionNames=actions
    )
    results = [result for page in pages for result in page["EvaluationResults"]]
    assert [r["EvalActionName"] for r in results] == actions
    assert {r["EvalDecision"] for r in results} == {"allowed"}


def test_other_actions_are_invalid(iam: Any) -> None:
    with pytest.raises(ClientError) as raised:
        iam.list_roles()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidAction"
    assert "GetRole and SimulatePrincipalPolicy" in error["Message"]
