"""The sagemaker-metrics service (REST JSON): PUT /BatchPutMetrics, POST /BatchGetMetrics.

The SDK's `Run.log_metric` reaches it through the client botocore builds for
`sagemaker-metrics`, which AWS_ENDPOINT_URL points at this port like every other client;
its requests are signed for the `sagemaker` service and told apart by their paths.
Bodies are validated against botocore's model and answers serialized from it by the
JSON 1.1 services' own steps (`json_service.answer`), except for the common well-formed
BatchPutMetrics body: metrics_input reads it on the event loop, its points are queued
for the trial components' metric writer, and the request awaits their commit without a
worker thread of its own (the generic path costs several times more per request, and a
training run sends one per ten steps).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_service
from sagebox.edge.errors import AWSError
from sagebox.edge.json_service import Handler
from sagebox.edge.metrics_input import batch_put_input
from sagebox.service_models import operation_model, service_model
from sagebox.services.platform import Platform

OPERATIONS: dict[str, Handler] = {
    "BatchPutMetrics": lambda p, r: p.trial_components.metrics.batch_put(r),
    "BatchGetMetrics": lambda p, r: p.trial_components.metrics.batch_get(r),
}
# The request path of each operation, as botocore's model routes it.
PATHS = {service_model("sagemaker-metrics").operation_model(name).http["requestUri"]: name for name in OPERATIONS}


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
    lean = batch_put_input(body) if name == "BatchPutMetrics" else None
    if lean is not None:
        payload = await platform.trial_components.metrics.batch_put_async(lean)
    else:
        payload = await json_service.answer("sagemaker-metrics", model, OPERATIONS[name], body, platform)
    return Response(json.dumps(payload), media_type="application/json", headers={"x-amzn-RequestId": rid})
