"""sagemaker-runtime over REST-JSON: InvokeEndpoint and InvokeEndpointAsync."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

from botocore.model import StructureShape
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_protocol
from sagebox.edge.errors import AWSError
from sagebox.service_models import operation_model
from sagebox.services.hosting.invocations import MAX_PAYLOAD_BYTES, Invocation
from sagebox.services.platform import Platform

_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/(?P<action>invocations|async-invocations)$")
IMPLEMENTED_OPERATIONS = {"InvokeEndpoint", "InvokeEndpointAsync"}


async def handle(request: Request, platform: Platform, rid: str) -> Response:
    match = _PATH.match(request.url.path)
    if match is None or request.method != "POST":
        raise AWSError(
            "UnknownOperationException",
            f"sagemaker-runtime has no operation at {request.method} {request.url.path} that sagebox implements.",
        )
    name = unquote(match.group("name"))
    headers = request.headers
    asynchronous = match.group("action") == "async-invocations"
    _check_members("InvokeEndpointAsync" if asynchronous else "InvokeEndpoint", name, headers)
    if asynchronous:
        invocation = Invocation(
            body=b"",
            content_type=headers.get("x-amzn-sagemaker-content-type", "application/octet-stream"),
            accept=headers.get("x-amzn-sagemaker-accept"),
            custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
            inference_id=headers.get("x-amzn-sagemaker-inference-id"),
        )
        location = headers.get("x-amzn-sagemaker-inputlocation")
        if not location:
            raise AWSError("ValidationError", "InputLocation (X-Amzn-SageMaker-InputLocation) is required.")
        placed = await platform.invocations.invoke_later(name, location, invocation)
        return Response(
            json.dumps({"InferenceId": placed["InferenceId"]}),
            status_code=202,
            media_type="application/json",
            headers={
                "X-Amzn-SageMaker-OutputLocation": placed["OutputLocation"],
                "X-Amzn-SageMaker-FailureLocation": placed["FailureLocation"],
                "x-amzn-RequestId": rid,
            },
        )
    body = await _read_limited(request)
    invocation = Invocation(
        body=body,
        content_type=headers.get("content-type", "application/octet-stream"),
        accept=headers.get("accept"),
        custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
        target_variant=headers.get("x-amzn-sagemaker-target-variant"),
        inference_id=headers.get("x-amzn-sagemaker-inference-id"),
    )
    result = await platform.invocations.invoke(name, invocation)
    answer_headers = {"x-Amzn-Invoked-Production-Variant": result.variant, "x-amzn-RequestId": rid}
    if result.custom_attributes:
        answer_headers["X-Amzn-SageMaker-Custom-Attributes"] = result.custom_attributes
    return Response(result.body, media_type=result.content_type, headers=answer_headers)


@dataclass(frozen=True)
class _HeaderMembers:
    """What an operation reads from headers, from the model: lower-case header -> (member, type)."""

    shape: StructureShape
    headers: dict[str, tuple[str, str]]
    body_required: bool


@cache
def _header_members(operation: str) -> _HeaderMembers:
    model = operation_model("sagemaker-runtime", operation)
    if model is None or model.input_shape is None:
        raise LookupError(f"sagemaker-runtime has no operation {operation}")
    shape = model.input_shape
    headers = {
        member.serialization["name"].lower(): (name, member.type_name)
        for name, member in shape.members.items()
        if member.serialization.get("location") == "header"
    }
    return _HeaderMembers(shape, headers, "Body" in shape.required_members)


def _check_members(operation: str, name: str, headers: Headers) -> None:
    """The endpoint name and the header members against the model's constraints (lengths,
    patterns, ranges), before any of the body is read; the body's size is checked as it streams."""
    members = _header_members(operation)
    params: dict[str, Any] = {"EndpointName": name}
    for header, value in headers.items():  # one pass over the request's headers (lower-case names)
        wanted = members.headers.get(header)
        if wanted is not None:
            params[wanted[0]] = _typed(wanted[1], value)
    if members.body_required:
        params["Body"] = ""
    problem = json_protocol.validate(members.shape, params)
    if problem:
        raise AWSError("ValidationError", problem)


def _typed(type_name: str, value: str) -> Any:
    """A header's text as the member's type; left as text (and so refused) when it is not one."""
    if type_name in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            return value
    return value


async def _read_limited(request: Request) -> bytes:
    """The body, refusing early once it passes the 6 MB limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
        raise AWSError(
            "ValidationError",
            f"Request payload of {declared} bytes exceeds the {MAX_PAYLOAD_BYTES} byte (6 MB) limit of "
            "InvokeEndpoint; use batch transform or InvokeEndpointAsync for larger inputs.",
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PAYLOAD_BYTES:
            raise AWSError(
                "ValidationError",
                f"Request payload exceeds the {MAX_PAYLOAD_BYTES} byte (6 MB) limit of InvokeEndpoint.",
            )
        chunks.append(chunk)
    return b"".join(chunks)
