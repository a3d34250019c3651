"""IAM over the query protocol: GetRole and SimulatePrincipalPolicy, for SDKs checking a role.

sagebox has no IAM: every role exists, with the path ``/`` and a trust policy that
lets SageMaker assume it, so a role ARN taken from the caller identity resolves; and
since nothing is enforced, the policy simulator allows every action.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, quote
from xml.sax.saxutils import escape

from starlette.responses import Response

from sagebox.edge.errors import AWSError

_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
_CREATED = "2024-01-01T00:00:00Z"
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
IMPLEMENTED_OPERATIONS = {"GetRole", "SimulatePrincipalPolicy"}


def handle(body: bytes, account_id: str, rid: str) -> Response:
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    action = form.get("Action") or ""
    handlers: dict[str, Callable[[dict[str, str], str], str]] = {
        "GetRole": _get_role,
        "SimulatePrincipalPolicy": _simulate_principal_policy,
    }
    handler = handlers.get(action)
    if handler is None:
        raise AWSError(
            "InvalidAction",
            f"The action {action or '(none)'} is not valid for this web service; "
            f"sagebox implements IAM {' and '.join(sorted(IMPLEMENTED_OPERATIONS))}.",
        )
    xml = (
        f'<{action}Response xmlns="{_NAMESPACE}">'
        f"<{action}Result>{handler(form, account_id)}</{action}Result>"
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return Response(xml, media_type="text/xml", headers={"x-amzn-RequestId": rid})


def _get_role(form: dict[str, str], account_id: str) -> str:
    """Every role exists, trusting SageMaker."""
    name = form.get("RoleName", "")
    if not name or len(name) > 64:
        raise AWSError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy "
            "constraint: Member must have length between 1 and 64",
        )
    return (
        "<Role>"
        "<Path>/</Path>"
        f"<AssumeRolePolicyDocument>{quote(json.dumps(_TRUST))}</AssumeRolePolicyDocument>"
        "<MaxSessionDuration>3600</MaxSessionDuration>"
        f"<RoleId>AROA{abs(hash(name)) % 10**16:016d}</RoleId>"
        f"<RoleName>{escape(name)}</RoleName>"
        f"<Arn>arn:aws:iam::{account_id}:role/{escape(name)}</Arn>"
        f"<CreateDate>{_CREATED}</CreateDate>"
        "</Role>"
    )


def _simulate_principal_policy(form: dict[str, str], account_id: str) -> str:
    """Every action is allowed: sagebox enforces no IAM policy."""
    if not form.get("PolicySourceArn"):
        raise AWSError(
            "ValidationError",
            "1 validation error detected: Value null at 'policySourceArn' failed to satisfy "
            "constraint: Member must not be null",
        )
    actions = [
        value
        for key, value in sorted(form.items(), key=_member_order)
        if key.startswith("ActionNames.member.")
    ]
    if not actions:
        raise AWSError(
            "ValidationError",
            "1 validation error detected: Value null at 'actionNames' failed to satisfy "
            "constraint: Member must not be null",
        )
    results = "".join(
        "<member>"
        f"<EvalActionName>{escape(action)}</EvalActionName>"
        "<EvalResourceName>*</EvalResourceName>"
        "<EvalDecision>allowed</EvalDecision>"
        "<MatchedStatements/><MissingContextValues/>"
        "</member>"
        for action in actions
    )
    return f"<EvaluationResults>{results}</EvaluationResults><IsTruncated>false</IsTruncated>"


def _member_order(item: tuple[str, str]) -> tuple[str, int]:
    """Sorts `List.member.N` keys by N, so a list keeps the order it was sent in."""
    prefix, _, index = item[0].rpartition(".")
    return (prefix, int(index)) if index.isdigit() else (item[0], 0)
