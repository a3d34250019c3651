"""IAM over the query protocol: GetRole, enough for code that looks up its execution role.

sagebox has no IAM: every role exists, with the path ``/`` and a trust policy that
lets SageMaker assume it, so a role ARN taken from the caller identity resolves.
"""

from __future__ import annotations

import json
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
IMPLEMENTED_OPERATIONS = {"GetRole"}


def handle(body: bytes, account_id: str, rid: str) -> Response:
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    action = form.get("Action")
    if action != "GetRole":
        raise AWSError(
            "InvalidAction",
            f"The action {action or '(none)'} is not valid for this web service; "
            "sagebox implements IAM GetRole.",
        )
    name = form.get("RoleName", "")
    if not name or len(name) > 64:
        raise AWSError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy "
            "constraint: Member must have length between 1 and 64",
        )
    role = (
        "<Path>/</Path>"
        f"<AssumeRolePolicyDocument>{quote(json.dumps(_TRUST))}</AssumeRolePolicyDocument>"
        "<MaxSessionDuration>3600</MaxSessionDuration>"
        f"<RoleId>AROA{abs(hash(name)) % 10**16:016d}</RoleId>"
        f"<RoleName>{escape(name)}</RoleName>"
        f"<Arn>arn:aws:iam::{account_id}:role/{escape(name)}</Arn>"
        f"<CreateDate>{_CREATED}</CreateDate>"
    )
    xml = (
        f'<GetRoleResponse xmlns="{_NAMESPACE}">'
        f"<GetRoleResult><Role>{role}</Role></GetRoleResult>"
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
        "</GetRoleResponse>"
    )
    return Response(xml, media_type="text/xml", headers={"x-amzn-RequestId": rid})
