"""AWS error shapes: JSON 1.1 (`__type` + X-Amzn-ErrorType) and the query protocol's XML."""

from __future__ import annotations

import json
import random
import uuid
from xml.sax.saxutils import escape

from starlette.responses import Response

# No message AWS writes comes near this; a longer one is cut (values it quotes are cut
# to 200 characters where they are validated, this is the backstop for the rest).
MAX_MESSAGE_CHARS = 4096


def bounded_message(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 3] + "..."


class AWSError(Exception):
    """An error answered to the client in its protocol's shape; `message` at most MAX_MESSAGE_CHARS long."""

    def __init__(
        self, code: str, message: str, status: int = 400, fields: dict[str, object] | None = None
    ) -> None:
        message = bounded_message(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}


def request_id() -> str:
    """A fresh x-amzn-RequestId in UUID 4 form. Its bits come from `random`, not the OS:
    it names a request in logs and answers and guards nothing, and os.urandom lets go of
    the interpreter lock, so under load each request would wait to get it back (from the
    metric writer thread, say) just to be named."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def json_error(error: AWSError, rid: str) -> Response:
    body = json.dumps({"__type": error.code, "message": error.message, **error.fields})
    return Response(
        body,
        status_code=error.status,
        media_type="application/x-amz-json-1.1",
        headers={"X-Amzn-ErrorType": error.code, "x-amzn-RequestId": rid},
    )


def cbor_error(error: AWSError, rid: str) -> Response:
    """The Smithy RPC v2 CBOR protocol's error (CloudWatch as boto3 calls it)."""
    from sagebox.edge import cbor

    body = cbor.encode({"__type": error.code, "message": error.message})
    return Response(
        body,
        status_code=error.status,
        media_type="application/cbor",
        headers={"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": rid},
    )


def query_error(error: AWSError, rid: str) -> Response:
    kind = "Receiver" if error.status >= 500 else "Sender"
    body = (
        "<ErrorResponse><Error>"
        f"<Type>{kind}</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return Response(body, status_code=error.status, media_type="text/xml")
