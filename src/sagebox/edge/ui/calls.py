"""The console's API calls: SageMaker and CloudWatch Logs operations, made as any client makes them.

Every page reads through the same operation tables the HTTP edge serves
(edge/sagemaker.py, edge/logs.py, edge/cloudwatch.py): the request is validated against botocore's input
shape, the services answer, the answer is serialized from the output shape, and the
caller is the signed-in user. So a page shows what the API says and an action a page
offers is the API call any client could make, with the same errors.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool

from sagebox.edge import cloudwatch, json_service, logs, sagemaker, sagemaker_metrics
from sagebox.edge.auth import Caller
from sagebox.edge.errors import AWSError
from sagebox.edge.sts import identity_of
from sagebox.services.callers import acting_as
from sagebox.services.errors import ServiceError
from sagebox.services.platform import Platform

TABLES = {
    "sagemaker": sagemaker.OPERATIONS,
    "logs": logs.OPERATIONS,
    "cloudwatch": cloudwatch.OPERATIONS,
    "sagemaker-metrics": sagemaker_metrics.OPERATIONS,
}


class ApiFailure(Exception):
    """An operation's AWS error, for a page to show: code and message as a client sees them."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ApiCalls:
    """Operations by name, on a worker thread, acting as `caller` (None: auth is off)."""

    def __init__(self, platform: Platform, caller: Caller | None) -> None:
        self.platform = platform
        self._caller = caller

    async def __call__(
        self, operation: str, service: str = "sagemaker", **params: Any
    ) -> dict[str, Any]:
        return await run_in_threadpool(self.now, operation, service, params)

    def now(self, operation: str, service: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = TABLES[service].get(operation)
        if handler is None:
            raise ApiFailure(
                "UnknownOperationException", f"sagebox does not implement {operation}."
            )
        body = json.dumps({k: v for k, v in params.items() if v is not None}).encode()
        identity = identity_of(self._caller, self.platform.settings.account_id)
        try:
            with acting_as(identity):
                return json_service.invoke(service, operation, handler, self.platform, body)
        except ServiceError as exc:
            raise ApiFailure(exc.code, exc.message, exc.status) from exc
        except AWSError as exc:
            raise ApiFailure(exc.code, exc.message, exc.status) from exc
