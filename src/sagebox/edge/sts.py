"""STS over the query protocol: GetCallerIdentity answers the local account."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.responses import Response

from sagebox.edge.errors import AWSError

_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


def handle(body: bytes, account_id: str, rid: str) -> Response:
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    action = form.get("Action")
    if action != "GetCallerIdentity":
        raise AWSError(
            "InvalidAction",
            f"The action {action or '(none)'} is not valid for this web service; "
            "sagebox implements STS GetCallerIdentity.",
        )
    result = (
        f"<Arn>arn:aws:iam::{account_id}:root</Arn>"
        f"<UserId>{account_id}</UserId>"
        f"<Account>{account_id}</Account>"
    )
    xml = (
        f'<GetCallerIdentityResponse xmlns="{_NAMESPACE}">'
        f"<GetCallerIdentityResult>{result}</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    return Response(xml, media_type="text/xml", headers={"x-amzn-RequestId": rid})
