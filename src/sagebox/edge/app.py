"""The edge: one ASGI app on one port that routes every AWS request by service."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sagebox.edge import (
    cloudwatch,
    iam,
    logs,
    routing,
    runtime,
    s3,
    sagemaker,
    sagemaker_metrics,
    sts,
)
from sagebox.edge.body_limits import limit_for, read_limited
from sagebox.edge.errors import AWSError, bounded_message, json_error, query_error, request_id
from sagebox.edge.gate import RequestGate, caller_of
from sagebox.edge.json_requests import LARGE_BODIES
from sagebox.edge.protocol_errors import unknown_service
from sagebox.edge.ui.console import Console
from sagebox.services.errors import ServiceError
from sagebox.services.platform import Platform

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class EdgeApp:
    """ASGI application; `platform` is started on lifespan startup and closed on shutdown."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.gate = RequestGate.for_store(platform.settings, platform.store)
        self.console = Console(platform)  # the web console at /ui/

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self._dispatch(request)
        self.gate.decorate(request, response)
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.platform.start()
                except Exception as exc:
                    log.exception("sagebox could not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                LARGE_BODIES.close()
                await self.platform.invocations.aclose()
                self.platform.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _dispatch(self, request: Request) -> Response:
        rid = request_id()
        limit = limit_for(request)
        try:  # a body the edge reads whole is capped before anything else reads it
            body = await read_limited(request, limit) if limit is not None else b""
        except AWSError as exc:
            return self._error(routing.service_of(request, b""), exc, rid)

        async def read_body() -> bytes:  # what the signature covers (read once)
            return body if limit is not None else await request.body()

        refusal = await self.gate.refusal(request, rid, read_body)
        if refusal is not None:
            return refusal
        service = routing.service_of(request, body)
        try:
            if service == "sagemaker":
                return await sagemaker.handle(request, body, self.platform, rid)
            if service == "logs":
                return await logs.handle(request, body, self.platform, rid)
            if service == "cloudwatch":
                return await cloudwatch.handle(request, body, self.platform, rid)
            if service == "s3":
                return await s3.handle(request, self.platform.objects, rid)
            if service == "sts":
                return sts.handle(body, self.platform.settings.account_id, rid, caller_of(request))
            if service == "iam":
                return iam.handle(body, self.platform.settings.account_id, rid)
            if service == "ui":
                return await self.console.handle(request, body)
            if service == "health":
                return JSONResponse({"status": "ok", "service": "sagebox"})
            if service == "sagemaker-runtime":
                return await runtime.handle(request, self.platform, rid)
            if service == "sagemaker-metrics":
                return await sagemaker_metrics.handle(request, self.platform, rid)
            return await unknown_service(service.split(":", 1)[1], rid)
        except ServiceError as exc:
            fields = getattr(exc, "members", {})
            if service == "sagemaker-runtime":
                fields = {"Message": bounded_message(exc.message), **fields}
            return self._error(service, AWSError(exc.code, exc.message, exc.status, fields), rid)
        except AWSError as exc:
            return self._error(service, exc, rid)
        except Exception as exc:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
            error = AWSError("InternalFailure", f"sagebox failed to serve the request: {exc!r:.200}", 500)
            return self._error(service, error, rid)

    @staticmethod
    def _error(service: str, error: AWSError, rid: str) -> Response:
        if service in ("sts", "iam"):
            return query_error(error, rid)
        return json_error(error, rid)
