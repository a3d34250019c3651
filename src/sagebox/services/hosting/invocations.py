"""InvokeEndpoint and InvokeEndpointAsync: routing, the model servers' answers, capture, shadows.

The invocation path runs on the edge's event loop end to end: the endpoint and its
instances are looked up in memory (at a server that does not drive the endpoint, its route
to the instances recorded in the store, read once and refreshed in the background), and the request goes to the model server over a
pooled keep-alive connection (aiohttp's client, the fastest well-kept one measured
here), so a request costs one extra loopback hop and no thread hand-off.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import (
    InvocationError,
    InvocationValidationError,
    ModelError,
    ModelNotReady,
    ThrottlingError,
)
from sagebox.services.hosting.capture import CaptureWriter, capture_record
from sagebox.services.hosting.endpoints import EndpointService
from sagebox.services.hosting.fleet import FleetStartError, Instance, VariantFleet
from sagebox.services.metrics.endpoint_metrics import InvocationMetrics

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024 * 1024
MODEL_TIMEOUT_SECONDS = 60.0
REPLACEMENT_POLL_SECONDS = 0.02
# How long a dropped connection's server is given to show how it ended.
EXIT_WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class Invocation:
    body: bytes
    content_type: str
    accept: str | None = None
    custom_attributes: str | None = None
    target_variant: str | None = None
    inference_id: str | None = None


@dataclass(frozen=True)
class InvocationResult:
    body: bytes
    content_type: str
    variant: str
    custom_attributes: str | None


def error_class(error: InvocationError) -> int:
    """4 or 5: which of Invocation4XXErrors / Invocation5XXErrors a failed request counts in
    (a model's own answer by its status; no healthy instance or a dropped model server: 5)."""
    if isinstance(error, ModelError):
        original = error.members.get("OriginalStatusCode")
        return 4 if isinstance(original, int) and 400 <= original < 500 else 5
    return 5 if isinstance(error, ModelNotReady) else 4


class InvocationService:
    def __init__(
        self,
        endpoints: EndpointService,
        objects: ObjectStore,
        account_id: str,
        region: str,
        metrics: InvocationMetrics | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._objects = objects
        self._account_id = account_id
        self._region = region
        self._session: aiohttp.ClientSession | None = None
        self.capture = CaptureWriter(objects)
        # CloudWatch invocation metrics, aggregated here and flushed by the supervisor's beat.
        self.metrics = metrics or InvocationMetrics()
        self._tasks: set[asyncio.Task[None]] = set()
        self._cold_start = asyncio.Lock()
        self._in_flight: dict[int, int] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=MODEL_TIMEOUT_SECONDS, sock_connect=2),
                skip_auto_headers=("User-Agent", "Content-Type"),
            )
        return self._session

    # -- InvokeEndpoint -----------------------------------------------------------

    async def invoke(
        self, name: str, invocation: Invocation, *, payload_limit: int = MAX_PAYLOAD_BYTES
    ) -> InvocationResult:
        started = time.perf_counter()
        if len(invocation.body) > payload_limit:
            raise InvocationValidationError(
                f"Request payload of {len(invocation.body)} bytes exceeds the {payload_limit} byte "
                "limit of InvokeEndpoint (6 MB); use batch transform or InvokeEndpointAsync for larger inputs."
            )
        deployment = self._endpoints.live(name) or await asyncio.to_thread(
            self._endpoints.route, name
        )
        fleet = deployment.choose(invocation.target_variant)
        if fleet is None:
            if invocation.target_variant is not None:
                raise InvocationValidationError(
                    f"The variant {invocation.target_variant} is not present on endpoint {name}; "
                    f"variants: {sorted(deployment.variants)}."
                )
            raise InvocationValidationError(
                f"Endpoint {name} has no variant with a weight above zero."
            )
        try:
            body, content_type, attributes, model_seconds = await self._call_fleet(
                name, fleet, invocation
            )
        except InvocationError as exc:
            self.metrics.record(
                name, fleet.name, None, time.perf_counter() - started, error_class(exc)
            )
            raise
        capture = deployment.config.get("DataCaptureConfig")
        if self.capture.sampled(capture):
            self._capture(capture, name, fleet.name, invocation, body, content_type)  # type: ignore[arg-type]
        for shadow in deployment.shadows.values():
            self._spawn(self._shadow(name, shadow, invocation, capture))
        self.metrics.record(name, fleet.name, model_seconds, time.perf_counter() - started, None)
        return InvocationResult(body, content_type, fleet.name, attributes)

    async def _call_fleet(
        self, endpoint: str, fleet: VariantFleet, invocation: Invocation
    ) -> tuple[bytes, str, str | None, float]:
        """The answer (body, content type, custom attributes) and the seconds the model took."""
        limit = int(fleet.serverless.get("MaxConcurrency", 1)) if fleet.serverless else None
        key = id(fleet)
        if limit is not None and self._in_flight.get(key, 0) >= limit:
            raise ThrottlingError(
                f"Endpoint {endpoint} variant {fleet.name} is already serving its MaxConcurrency of {limit} requests."
            )
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            deadline = time.monotonic() + MODEL_TIMEOUT_SECONDS
            retried = False
            while True:
                instance = fleet.pick() or await self._next_instance(endpoint, fleet, deadline)
                try:
                    called = time.perf_counter()
                    answer = await self._call_instance(endpoint, instance, invocation)
                    return (*answer, time.perf_counter() - called)
                except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                    # Refused, or no answer to connecting (a cluster node that vanished): the
                    # request never reached the instance, which is gone or going. Out of
                    # rotation until the health checker has replaced it; try another.
                    instance.healthy = False
                    self._endpoints.routes.stale(
                        endpoint
                    )  # another server's instance: re-read them
                    log.warning(
                        "instance %s of %s/%s unreachable: %s",
                        instance.id,
                        endpoint,
                        fleet.name,
                        exc,
                    )
                except TimeoutError as exc:
                    raise ModelError(
                        f"Your invocation timed out while waiting for a response from container primary "
                        f"of variant {fleet.name}.",
                        LogStreamArn=self._log_stream(endpoint),
                    ) from exc
                except (
                    aiohttp.ServerDisconnectedError,
                    aiohttp.ClientOSError,
                    aiohttp.ClientPayloadError,
                ) as exc:
                    # The connection dropped with the request sent. Another try, once, unless the
                    # server ended by itself: then it is this request that took it down.
                    instance.healthy = False
                    self._endpoints.routes.stale(endpoint)
                    from_outside = await self._killed_from_outside(instance)
                    if from_outside is False or retried:
                        raise ModelError(
                            f"The model server of variant {fleet.name} exited while handling the request "
                            f"({type(exc).__name__}); the request was not retried.",
                            LogStreamArn=self._log_stream(endpoint),
                        ) from exc
                    retried = True
                    log.warning(
                        "instance %s of %s/%s dropped a request: %s; retrying it",
                        instance.id,
                        endpoint,
                        fleet.name,
                        exc,
                    )
        finally:
            self._in_flight[key] -= 1

    async def _next_instance(self, endpoint: str, fleet: VariantFleet, deadline: float) -> Instance:
        """A healthy instance once there is one: a serverless variant starts one; otherwise the
        request waits for the health checker's replacement, up to the model timeout."""
        if fleet.serverless is not None:
            return await self._cold_start_instance(endpoint, fleet)
        while time.monotonic() < deadline:
            await asyncio.sleep(REPLACEMENT_POLL_SECONDS)
            instance = fleet.pick()
            if instance is not None:
                return instance
        raise ModelNotReady(f"Endpoint {endpoint} variant {fleet.name} has no healthy instance.")

    @staticmethod
    async def _killed_from_outside(instance: Instance) -> bool | None:
        """How the instance's server ended (see Instance.killed_from_outside), giving a dying
        process a moment to be reaped; None when it is still running."""
        for _ in range(int(EXIT_WAIT_SECONDS / REPLACEMENT_POLL_SECONDS)):
            verdict = instance.killed_from_outside()
            if verdict is not None:
                return verdict
            await asyncio.sleep(REPLACEMENT_POLL_SECONDS)
        return instance.killed_from_outside()

    async def _cold_start_instance(self, endpoint: str, fleet: VariantFleet) -> Instance:
        async with self._cold_start:
            instance = fleet.pick()
            if instance is not None:
                return instance
            try:
                return await asyncio.to_thread(fleet.launch_instance)
            except FleetStartError as exc:
                raise ModelError(
                    f"The serverless variant {fleet.name} could not start: {exc}"
                ) from exc

    async def _call_instance(
        self, endpoint: str, instance: Instance, invocation: Invocation
    ) -> tuple[bytes, str, str | None]:
        instance.in_flight += 1
        instance.last_used = time.time()
        session = self._client()
        try:
            body, content_type = invocation.body, invocation.content_type
            attributes = invocation.custom_attributes
            for index, server in enumerate(instance.servers):
                headers = {"Content-Type": content_type}
                if invocation.accept and index == len(instance.servers) - 1:
                    headers["Accept"] = invocation.accept
                if attributes:
                    headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
                async with session.post(
                    f"{server.url}/invocations", data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    if response.status >= 400:
                        raise self._model_error(endpoint, instance, index, response.status, payload)
                    body = payload
                    content_type = response.headers.get("Content-Type", "application/octet-stream")
                    attributes = response.headers.get(
                        "X-Amzn-SageMaker-Custom-Attributes", attributes
                    )
            return body, content_type, attributes
        finally:
            instance.in_flight -= 1

    def _model_error(
        self, endpoint: str, instance: Instance, index: int, status: int, payload: bytes
    ) -> ModelError:
        container = "primary" if len(instance.servers) == 1 else f"container-{index + 1}"
        message = payload.decode("utf-8", "replace")
        kind = "client" if status < 500 else "server"
        return ModelError(
            f'Received {kind} error ({status}) from {container} with message "{message}". '
            f"See {self._log_stream(endpoint)} for more information.",
            OriginalStatusCode=status,
            OriginalMessage=message,
            LogStreamArn=self._log_stream(endpoint),
        )

    def _log_stream(self, endpoint: str) -> str:
        return f"arn:aws:logs:{self._region}:{self._account_id}:log-group:/aws/sagemaker/Endpoints/{endpoint}"

    def _capture(
        self,
        capture: dict[str, Any],
        endpoint: str,
        variant: str,
        invocation: Invocation,
        body: bytes,
        content_type: str,
    ) -> None:
        moment = datetime.now(UTC)
        record = capture_record(
            capture,
            invocation.body,
            invocation.content_type,
            body,
            content_type,
            invocation.inference_id,
            moment,
        )
        self.capture.add(capture, endpoint, variant, record, moment)

    async def _shadow(
        self,
        endpoint: str,
        fleet: VariantFleet,
        invocation: Invocation,
        capture: dict[str, Any] | None,
    ) -> None:
        """Shadow variants get a copy of the request; their answers are only recorded."""
        started = time.perf_counter()
        try:
            body, content_type, _, model_seconds = await self._call_fleet(
                endpoint, fleet, replace(invocation, target_variant=None)
            )
        except InvocationError as exc:
            self.metrics.record(
                endpoint, fleet.name, None, time.perf_counter() - started, error_class(exc)
            )
            log.info(
                "shadow variant %s of %s answered an error: %s", fleet.name, endpoint, exc.message
            )
            return
        self.metrics.record(
            endpoint, fleet.name, model_seconds, time.perf_counter() - started, None
        )
        if self.capture.sampled(capture):
            self._capture(capture, endpoint, fleet.name, invocation, body, content_type)  # type: ignore[arg-type]

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- InvokeEndpointAsync -------------------------------------------------------

    async def invoke_later(
        self, name: str, input_location: str, invocation: Invocation
    ) -> dict[str, str]:
        """Accepts an asynchronous request; the answer lands in S3OutputPath."""
        deployment = self._endpoints.live(name) or await asyncio.to_thread(
            self._endpoints.route, name
        )
        config = deployment.config.get("AsyncInferenceConfig")
        if not config:
            raise InvocationValidationError(
                f"Endpoint {name} is not an asynchronous endpoint: its configuration has no AsyncInferenceConfig."
            )
        try:
            parse_s3_uri(input_location)
        except ValueError as exc:
            raise InvocationValidationError(f"InputLocation: {exc}") from exc
        inference_id = invocation.inference_id or str(uuid.uuid4())
        output = config["OutputConfig"]
        output_location = f"{output['S3OutputPath'].rstrip('/')}/{inference_id}.out"
        failure_path = output.get("S3FailurePath") or output["S3OutputPath"]
        failure_location = f"{failure_path.rstrip('/')}/{inference_id}-error.out"
        request = replace(invocation, inference_id=inference_id)
        self._spawn(
            self._run_later(name, input_location, request, output_location, failure_location)
        )
        return {
            "InferenceId": inference_id,
            "OutputLocation": output_location,
            "FailureLocation": failure_location,
        }

    async def _run_later(
        self, name: str, input_location: str, invocation: Invocation, output: str, failure: str
    ) -> None:
        try:
            body = await asyncio.to_thread(self._objects.read_bytes, input_location)
            result = await self.invoke(
                name, replace(invocation, body=body), payload_limit=MAX_ASYNC_PAYLOAD_BYTES
            )
            await asyncio.to_thread(self._put, output, result.body, result.content_type)
        except (InvocationError, ObjectStoreError) as exc:
            await asyncio.to_thread(self._put, failure, str(exc).encode(), "text/plain")

    def _put(self, uri: str, body: bytes, content_type: str) -> None:
        bucket, key = parse_s3_uri(uri)
        try:
            self._objects.put_object(bucket, key, body, content_type=content_type)
        except ObjectStoreError as exc:
            log.warning("could not write %s: %s", uri, exc)

    async def aclose(self) -> None:
        """Lets pending asynchronous work finish, then closes the connection pool."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=30)
        if self._session is not None:
            await self._session.close()
        self.capture.flush()
