"""The model server: a small ASGI app speaking SageMaker's inference container contract.

- ``GET /ping``: 200 with an empty body (the model is loaded before the server listens).
- ``POST /invocations``: the handler's prediction for the body, run in a worker thread
  so ``/ping`` stays responsive; ``X-Amzn-SageMaker-Custom-Attributes`` is echoed.
  Errors are plain text: 400 undecodable payload, 415 unsupported Content-Type,
  406 unsupported Accept, 500 anything unexpected (traceback to stderr only).
- ``GET /execution-parameters``: what batch transform asks a container for.

The app is a bare ASGI callable rather than a routed framework app: ``/invocations``
is on the latency-critical path of every prediction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from sagebox.serving.errors import ServingError
from sagebox.serving.handlers import Handler

INLINE_BODY_BYTES = 16 * 1024
"""Requests up to this size are predicted on the event loop itself."""

HOST = "127.0.0.1"
CUSTOM_ATTRIBUTES = b"x-amzn-sagemaker-custom-attributes"
MAX_PAYLOAD_VARIABLE = "MAX_CONTENT_LENGTH"
DEFAULT_MAX_PAYLOAD = 6 * 1024 * 1024
_TEXT = b"text/plain; charset=utf-8"
_ROUTES = {"/ping": "GET", "/invocations": "POST", "/execution-parameters": "GET"}
_UNKNOWN = object()


def execution_parameters() -> dict[str, object]:
    """``/execution-parameters``: one transform per CPU, multi-record batches, 6 MB payloads."""
    text = os.environ.get(MAX_PAYLOAD_VARIABLE) or ""
    limit = int(text) if text.isdigit() else DEFAULT_MAX_PAYLOAD
    return {
        "MaxConcurrentTransforms": os.cpu_count() or 1,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": max(1, limit // (1024 * 1024)),
    }


class InferenceApp:
    """The ASGI app serving one loaded handler."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._parameters = json.dumps(execution_parameters()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations" and method == "POST":
            await self._invocations(scope, receive, send)
        elif path == "/ping" and method in ("GET", "HEAD"):
            await _respond(send, 200, b"", b"text/plain")
        elif path == "/execution-parameters" and method == "GET":
            await _respond(send, 200, self._parameters, b"application/json")
        elif path in _ROUTES:
            allow = [(b"allow", _ROUTES[path].encode())]
            await _respond(send, 405, f"{method} is not allowed on {path}".encode(), _TEXT, allow)
        else:
            await _respond(send, 404, f"no route {path}".encode(), _TEXT)

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        content_type = accept = ""
        echo: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == CUSTOM_ATTRIBUTES:
                echo.append((CUSTOM_ATTRIBUTES, value))
        try:
            if len(body) <= INLINE_BODY_BYTES:
                # A few rows predict in well under a millisecond: a thread hop would
                # cost more than it frees the event loop for.
                payload, response_type = self.handler.predict(body, content_type, accept)
            else:
                payload, response_type = await run_in_threadpool(
                    self.handler.predict, body, content_type, accept
                )
        except ServingError as exc:
            await _respond(send, exc.status, str(exc).encode(), _TEXT, echo)
            return
        except Exception as exc:  # noqa: BLE001 - any failure must still get an answer
            traceback.print_exc(file=sys.stderr)
            reason = f"{type(exc).__name__}: {exc}".encode()
            await _respond(send, 500, reason, _TEXT, echo)
            return
        await _respond(send, 200, payload, response_type.encode("latin-1"), echo)


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    if status == 204:  # no body, and so no Content-Type or Content-Length either
        body, headers = b"", []
    else:
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _Server(uvicorn.Server):
    """uvicorn's server, announcing the bound port once it listens."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[int], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        if self.started:
            self.on_ready(self.servers[0].sockets[0].getsockname()[1])

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """On SIGTERM, end at once when no request awaits its answer; else shut down gracefully.

        uvicorn's graceful shutdown waits for its next tick (up to 0.1 s) and then at
        least 0.1 s more, closes every connection whose request is answered (or that
        has none yet) and finally re-raises the signal to end the process by it. When
        every connection is in that state there is nothing to wait for, and whoever
        stops the server (a transform job before it completes, an endpoint being
        deleted) is waiting for the process to end. The check runs on the event loop,
        between its callbacks, so that a response being written is seen as complete.
        """
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM and self.started and self._loop is not None:
            self._loop.call_soon_threadsafe(self._end_if_idle, sig)

    def _end_if_idle(self, sig: int) -> None:
        if self._answering():
            return  # uvicorn's graceful shutdown is under way
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        signal.signal(sig, signal.SIG_DFL)
        signal.raise_signal(sig)

    def _answering(self) -> bool:
        """Whether a connection has a request whose response is not complete.

        The test uvicorn's own shutdown applies to each connection; a connection of a
        kind that does not expose its request cycle counts as answering.
        """
        for connection in self.server_state.connections:
            cycle = getattr(connection, "cycle", _UNKNOWN)
            if cycle is _UNKNOWN or (cycle is not None and not getattr(cycle, "response_complete", False)):
                return True
        return False


def run(app: InferenceApp, port: int, on_ready: Callable[[int], None], host: str = HOST) -> None:
    """Serve ``app`` on ``host``:``port`` (0: any free port) until SIGINT or SIGTERM."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="auto",
        http="auto",
        workers=1,
        lifespan="on",
        access_log=False,
        log_level="warning",
    )
    _Server(config, on_ready).run()
