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

from sagebox.edge import json_protocol, json_requests
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
    """Serve one ``X-Amz-Target: <prefix>.<Operation>`` request of ``service``.

    Parsing, validation, the handler and serialization run off the event loop: on a
    worker thread, and a large body's parsing and validation in a separate process
    (json_requests), so no body holds up the loop, and InvokeEndpoint with it.
    """
    target = request.headers.get("x-amz-target", "")
    operation = target.split(".", 1)[1] if "." in target else target
    model = operation_model(service, operation)
    if model is None:
        raise AWSError("UnknownOperationException", f"{title} has no operation named '{operation[:200]}'.")
    handler = operations.get(operation)
    if handler is None:
        raise AWSError(
            "UnknownOperationException",
            f"The {title} operation {operation} is not implemented by sagebox yet.",
        )
    payload = await answer(service, model, handler, body, platform)
    return Response(
        json.dumps(payload),
        media_type="application/x-amz-json-1.1",
        headers={"x-amzn-RequestId": rid},
    )


async def answer(
    service: str, model: OperationModel, handler: Handler, body: bytes, platform: Platform
) -> dict[str, Any]:
    """A JSON body read strictly and validated against the operation's input shape, given to
    the handler, and its result serialized from the output shape; all off the event loop (a
    large body's parsing and validation in a separate process, json_requests)."""
    if len(body) >= json_requests.LARGE_BODY_BYTES:
        params = json_requests.decoded(await json_requests.LARGE_BODIES.read(service, model.name, body))
        return await run_in_threadpool(_result, model, handler, platform, params)
    return await run_in_threadpool(_read_and_result, service, model, handler, platform, body)


def invoke(service: str, operation: str, handler: Handler, platform: Platform, body: bytes) -> dict[str, Any]:
    """One operation answered in the calling thread exactly as over HTTP: the body read and
    validated against the input shape, the handler, the answer serialized from the output
    shape (the web console's calls, edge/ui/calls.py)."""
    model = operation_model(service, operation)
    if model is None:
        raise AWSError("UnknownOperationException", f"{service} has no operation named '{operation}'.")
    return _read_and_result(service, model, handler, platform, body)


def _read_and_result(
    service: str, model: OperationModel, handler: Handler, platform: Platform, body: bytes
) -> dict[str, Any]:
    params = json_requests.decoded(json_requests.read_input(service, model.name, body))
    return _result(model, handler, platform, params)


def _result(model: OperationModel, handler: Handler, platform: Platform, params: dict[str, Any]) -> dict[str, Any]:
    return json_protocol.serialize(model.output_shape, handler(platform, params))
