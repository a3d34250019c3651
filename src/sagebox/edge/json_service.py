"""AWS JSON 1.1 services (SageMaker, CloudWatch Logs): parse, validate, dispatch, serialize.

A service is a botocore model name plus a table of operation name -> handler. Each
handler is one line into the services layer; what a table lists is what sagebox
implements (``scripts/api_coverage.py`` reads the tables).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import OperationModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_protocol
from sagebox.edge.errors import AWSError
from sagebox.service_models import operation_model
from sagebox.services.platform import Platform

Handler = Callable[[Platform, dict[str, Any]], dict[str, Any] | None]


async def handle(
    service: str,
    title: str,
    operations: Mapping[str, Handler],
    request: Request,
    body: bytes,
    platform: Platform,
    rid: str,
) -> Response:
    """Serve one ``X-Amz-Target: <prefix>.<Operation>`` request of ``service``."""
    target = request.headers.get("x-amz-target", "")
    operation = target.split(".", 1)[1] if "." in target else target
    model = operation_model(service, operation)
    if model is None:
        raise AWSError("UnknownOperationException", f"{title} has no operation named '{operation}'.")
    handler = operations.get(operation)
    if handler is None:
        raise AWSError(
            "UnknownOperationException",
            f"The {title} operation {operation} is not implemented by sagebox yet.",
        )
    payload = await answer(model, handler, body, platform)
    return Response(
        json.dumps(payload),
        media_type="application/x-amz-json-1.1",
        headers={"x-amzn-RequestId": rid},
    )


async def answer(model: OperationModel, handler: Handler, body: bytes, platform: Platform) -> dict[str, Any]:
    """A JSON body parsed and validated against the operation's input shape, given to the
    handler in a worker thread, and its result serialized from the output shape."""
    try:
        params = json.loads(body) if body.strip() else {}
    except json.JSONDecodeError as exc:
        raise AWSError("SerializationException", f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise AWSError("SerializationException", "The request body must be a JSON object.")
    problem = json_protocol.validate(model.input_shape, params)
    if problem:
        raise AWSError("ValidationException", problem)
    parsed = json_protocol.parse_input(model.input_shape, params)
    result = await run_in_threadpool(handler, platform, parsed)
    return json_protocol.serialize(model.output_shape, result)
