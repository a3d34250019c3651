"""The sagemaker-metrics service (REST JSON): PUT /BatchPutMetrics, POST /BatchGetMetrics.

The SDK's `Run.log_metric` reaches it through the client botocore builds for
`sagemaker-metrics`, which AWS_ENDPOINT_URL points at this port like every other client;
its requests are signed for the `sagemaker` service and told apart by their paths.
Bodies are validated against botocore's model and answers serialized from it, as for
the JSON 1.1 services.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_protocol
from sagebox.edge.errors import AWSError
from sagebox.edge.json_service import Handler
from sagebox.service_models import operation_model
from sagebox.services.platform import Platform

OPERATIONS: dict[str, Handler] = {
    "BatchPutMetrics": lambda p, r: p.trial_components.metrics.batch_put(r),
    "BatchGetMetrics": lambda p, r: p.trial_components.metrics.batch_get(r),
}
# The request path of each operation, as botocore's model routes it.
PATHS = {f"/{name}": name for name in OPERATIONS}


async def handle(request: Request, platform: Platform, rid: str) -> Response:
    name = PATHS.get(request.url.path)
    model = operation_model("sagemaker-metrics", name) if name else None
    if name is None or model is None:
        raise AWSError("UnknownOperationException", f"SageMaker Metrics has no operation at {request.url.path}.", 404)
    if request.method != model.http["method"]:
        raise AWSError(
            "UnknownOperationException",
            f"SageMaker Metrics' {name} is a {model.http['method']} request, not {request.method}.",
            405,
        )
    body = await request.body()
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
    result = await run_in_threadpool(OPERATIONS[name], platform, parsed)
    payload = json_protocol.serialize(model.output_shape, result)
    return Response(json.dumps(payload), media_type="application/json", headers={"x-amzn-RequestId": rid})
