"""STS over the query protocol: GetCallerIdentity.

With authentication off, the identity has the assumed-role form a notebook or a job
sees (``arn:aws:sts::<account>:assumed-role/<role>/sagebox``), so code that derives its
execution role from the caller identity, as the SageMaker SDK's
``get_execution_role()`` does, finds ``arn:aws:iam::<account>:role/<role>``. With
authentication on, it is the identity of the access key that signed the request: the
IAM user ``arn:aws:iam::<account>:user/<name>`` and its unique id.
"""

from __future__ import annotations

from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from starlette.responses import Response

from sagebox.edge.auth import Caller
from sagebox.edge.errors import AWSError
from sagebox.services.callers import CallerIdentity

_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
EXECUTION_ROLE = "SageMakerExecutionRole"
SESSION_NAME = "sagebox"
ROLE_ID = "AROASAGEBOXEXECUTION1"


def handle(body: bytes, account_id: str, rid: str, caller: Caller | None = None) -> Response:
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    action = form.get("Action")
    if action != "GetCallerIdentity":
        raise AWSError(
            "InvalidAction",
            f"The action {action or '(none)'} is not valid for this web service; "
            "sagebox implements STS GetCallerIdentity.",
        )
    identity = identity_of(caller, account_id)
    arn, user_id = identity.arn, identity.principal_id
    result = f"<Arn>{escape(arn)}</Arn><UserId>{escape(user_id)}</UserId><Account>{account_id}</Account>"
    xml = (
        f'<GetCallerIdentityResponse xmlns="{_NAMESPACE}">'
        f"<GetCallerIdentityResult>{result}</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    return Response(xml, media_type="text/xml", headers={"x-amzn-RequestId": rid})


def identity_of(caller: Caller | None, account_id: str) -> CallerIdentity:
    """The identity a request acts as: its signing key's user, or the execution role."""
    if caller is None:
        return CallerIdentity(
            f"arn:aws:sts::{account_id}:assumed-role/{EXECUTION_ROLE}/{SESSION_NAME}",
            f"{ROLE_ID}:{SESSION_NAME}",
        )
    return CallerIdentity(caller.key.user_arn(account_id), caller.key.user_id)
