"""CloudWatch metrics in the three protocols its clients speak.

botocore's CloudWatch model lists ``smithy-rpc-v2-cbor``, ``json`` and ``query``; a client
uses the first it knows, so current boto3 sends CBOR (``POST /service/
GraniteServiceVersion20100801/operation/<Operation>``, ``smithy-protocol: rpc-v2-cbor``),
JSON-1.0 clients send ``X-Amz-Target: GraniteServiceVersion20100801.<Operation>`` and older
ones a query form (``Action=<Operation>``). Each is answered in its own shape, errors
included: CloudWatch is "query compatible", so the JSON and CBOR errors carry the query
error code in ``x-amzn-query-error``, which botocore reads. Bodies may be gzip-compressed
(botocore compresses large PutMetricData requests).
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from typing import Any
from urllib.parse import parse_qs

from botocore.model import OperationModel, Shape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import cbor, json_protocol, query_protocol
from sagebox.edge.errors import AWSError, query_error
from sagebox.edge.json_service import Handler
from sagebox.service_models import operation_model, service_model
from sagebox.services.errors import ServiceError
from sagebox.services.platform import Platform

log = logging.getLogger(__name__)

SERVICE = "cloudwatch"
TARGET_PREFIX = "GraniteServiceVersion20100801."
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"

OPERATIONS: dict[str, Handler] = {
    "PutMetricData": lambda p, r: p.metrics.put_metric_data(r),
    "GetMetricStatistics": lambda p, r: p.metrics.get_metric_statistics(r),
    "GetMetricData": lambda p, r: p.metrics.get_metric_data(r),
    "ListMetrics": lambda p, r: p.metrics.list_metrics(r),
}


def protocol_of(request: Request) -> str:
    """"cbor", "json" or "query": how this CloudWatch request is written."""
    if request.headers.get("smithy-protocol") == "rpc-v2-cbor" or request.url.path.startswith(CBOR_PATH):
        return "cbor"
    if request.headers.get("x-amz-target", "").startswith(TARGET_PREFIX):
        return "json"
    return "query"


async def handle(request: Request, body: bytes, platform: Platform, rid: str) -> Response:
    protocol = protocol_of(request)
    try:
        if not body and request.method == "POST":
            body = await request.body()
        operation, params = _parse(protocol, request, _decompressed(request, body))
        model = operation_model(SERVICE, operation)
        if model is None:
            raise AWSError("InvalidAction", f"CloudWatch has no operation named '{operation}'.")
        handler = OPERATIONS.get(operation)
        if handler is None:
            raise AWSError("InvalidAction", f"The CloudWatch operation {operation} is not implemented by sagebox yet.")
        problem = json_protocol.validate(model.input_shape, params)
        if problem:
            code = "MissingParameter" if "must not be null" in problem else "InvalidParameterValue"
            raise AWSError(code, problem)
        parsed = json_protocol.parse_input(model.input_shape, params)
        result = await run_in_threadpool(handler, platform, parsed)
        return _answer(protocol, model, result or {}, rid)
    except ServiceError as exc:
        return error_response(protocol, AWSError(exc.code, exc.message, exc.status), rid)
    except AWSError as exc:
        return error_response(protocol, exc, rid)
    except Exception as exc:
        log.exception("unexpected error serving CloudWatch %s", request.url.path)
        return error_response(protocol, AWSError("InternalServiceError", f"sagebox failed to serve the request: {exc!r}", 500), rid)


def _decompressed(request: Request, body: bytes) -> bytes:
    if request.headers.get("content-encoding", "").lower() != "gzip":
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise AWSError("InvalidParameterValue", f"The request says Content-Encoding gzip but is not gzip data: {exc}") from exc


def _parse(protocol: str, request: Request, body: bytes) -> tuple[str, dict[str, Any]]:
    if protocol == "cbor":
        operation = request.url.path[len(CBOR_PATH):] if request.url.path.startswith(CBOR_PATH) else ""
        try:
            params = cbor.decode(body) if body else {}
        except (cbor.CBORError, UnicodeDecodeError) as exc:
            raise AWSError("SerializationException", f"The request body is not valid CBOR: {exc}") from exc
        if not isinstance(params, dict):
            raise AWSError("SerializationException", "The request body must be a CBOR map.")
        return operation, params
    if protocol == "json":
        operation = request.headers["x-amz-target"][len(TARGET_PREFIX):]
        try:
            params = json.loads(body) if body.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AWSError("SerializationException", f"The request body is not valid JSON: {exc}") from exc
        if not isinstance(params, dict):
            raise AWSError("SerializationException", "The request body must be a JSON object.")
        return operation, params
    form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    form.update({key: values[-1] for key, values in parse_qs(request.url.query, keep_blank_values=True).items()})
    operation = form.pop("Action", "")
    form.pop("Version", None)
    model = operation_model(SERVICE, operation)
    return operation, query_protocol.parse(model.input_shape if model else None, form)


def _answer(protocol: str, model: OperationModel, result: dict[str, Any], rid: str) -> Response:
    if protocol == "query":
        namespace = service_model(SERVICE).metadata["xmlNamespace"]
        return Response(query_protocol.response(model, result, namespace, rid), media_type="text/xml",
                        headers={"x-amzn-RequestId": rid})
    if protocol == "json":
        return Response(json.dumps(json_protocol.serialize(model.output_shape, result)),
                        media_type="application/x-amz-json-1.0", headers={"x-amzn-RequestId": rid})
    payload = _cbor_value(model.output_shape, result) if model.output_shape is not None else {}
    return Response(cbor.encode(payload), media_type="application/cbor",
                    headers={"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": rid})


def _cbor_value(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        return {name: _cbor_value(members[name], item) for name, item in value.items() if name in members and item is not None}
    if kind == "list":
        return [_cbor_value(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {key: _cbor_value(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return json_protocol.parse_timestamp(value)
    if kind in ("double", "float"):
        return float(value)
    return value


def _shape_name(code: str) -> str:
    """The error shape whose query code is `code` (InvalidParameterValue -> ...Exception)."""
    for shape in service_model(SERVICE).error_shapes:
        if shape.metadata.get("error", {}).get("code") == code:
            return str(shape.name)
    return code


def error_response(protocol: str, error: AWSError, rid: str) -> Response:
    sender = "Receiver" if error.status >= 500 else "Sender"
    if protocol == "query":
        return query_error(error, rid)
    headers = {"x-amzn-RequestId": rid, "x-amzn-query-error": f"{error.code};{sender}"}
    body = {"__type": _shape_name(error.code), "message": error.message}
    if protocol == "json":
        headers["X-Amzn-ErrorType"] = body["__type"]
        return Response(json.dumps(body), status_code=error.status, media_type="application/x-amz-json-1.0", headers=headers)
    headers["smithy-protocol"] = "rpc-v2-cbor"
    return Response(cbor.encode(body), status_code=error.status, media_type="application/cbor", headers=headers)
