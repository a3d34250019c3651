"""InvokeEndpoint and InvokeEndpointAsync: routing, the model servers' answers, capture, shadows."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

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

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024 * 1024
MODEL_TIMEOUT_SECONDS = 60.0


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


class InvocationService:
    def __init__(self, endpoints: EndpointService, objects: ObjectStore, account_id: str, region: str) -> None:
        self._endpoints = endpoints
        self._objects = objects
        self._account_id = account_id
        self._region = region
        self._client = httpx.Client(
            timeout=httpx.Timeout(MODEL_TIMEOUT_SECONDS, connect=2.0),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
        )
        self.capture = CaptureWriter(objects)
        self._background = ThreadPoolExecutor(max_workers=4, thread_name_prefix="invocation-side")
        self._cold_start = threading.Lock()
        self._concurrency: dict[int, threading.BoundedSemaphore] = {}

    # -- InvokeEndpoint -----------------------------------------------------------

    def invoke(self, name: str, invocation: Invocation, *, payload_limit: int = MAX_PAYLOAD_BYTES) -> InvocationResult:
        if len(invocation.body) > payload_limit:
            raise InvocationValidationError(
                f"Request payload of {len(invocation.body)} bytes exceeds the {MAX_PAYLOAD_BYTES} byte "
                "(6 MB) limit of InvokeEndpoint; use batch transform or InvokeEndpointAsync for larger inputs."
            )
        record, deployment = self._endpoints.live(name)
        fleet = deployment.choose(invocation.target_variant)
        if fleet is None:
            if invocation.target_variant is not None:
                raise InvocationValidationError(
                    f"The variant {invocation.target_variant} is not present on endpoint {name}; "
                    f"variants: {sorted(deployment.variants)}."
                )
            raise InvocationValidationError(f"Endpoint {name} has no variant with a weight above zero.")
        body, content_type, attributes = self._call_fleet(name, fleet, invocation)
        config = record.document["_sagebox"]["config"]
        capture = config.get("DataCaptureConfig")
        moment = datetime.now(UTC)
        if self.capture.sampled(capture):
            self.capture.add(
                capture, name, fleet.name,
                capture_record(capture, invocation.body, invocation.content_type, body, content_type, invocation.inference_id, moment),
                moment,
            )
        for shadow in deployment.shadows.values():
            self._background.submit(self._shadow, name, shadow, invocation, capture)
        return InvocationResult(body, content_type, fleet.name, attributes)

    def _call_fleet(self, endpoint: str, fleet: VariantFleet, invocation: Invocation) -> tuple[bytes, str, str | None]:
        gate = self._gate(fleet)
        if gate is not None and not gate.acquire(blocking=False):
            raise ThrottlingError(
                f"Endpoint {endpoint} variant {fleet.name} is already serving its MaxConcurrency of "
                f"{fleet.serverless['MaxConcurrency']} requests."  # type: ignore[index]
            )
        try:
            for _attempt in range(3):
                instance = fleet.pick() or self._cold_start_instance(endpoint, fleet)
                try:
                    return self._call_instance(endpoint, fleet, instance, invocation)
                except httpx.TransportError as exc:
                    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
                        raise ModelError(
                            f"Your invocation timed out while waiting for a response from container "
                            f"primary of variant {fleet.name}.",
                            LogStreamArn=self._log_stream(endpoint),
                        ) from exc
                    instance.healthy = False  # never reached the model: safe to try another instance
                    log.warning("instance %s of %s/%s unreachable: %s", instance.id, endpoint, fleet.name, exc)
            raise ModelNotReady(f"Endpoint {endpoint} variant {fleet.name} has no healthy instance.")
        finally:
            if gate is not None:
                gate.release()

    def _gate(self, fleet: VariantFleet) -> threading.BoundedSemaphore | None:
        if fleet.serverless is None:
            return None
        key = id(fleet)
        if key not in self._concurrency:
            self._concurrency[key] = threading.BoundedSemaphore(int(fleet.serverless.get("MaxConcurrency", 1)))
        return self._concurrency[key]

    def _cold_start_instance(self, endpoint: str, fleet: VariantFleet) -> Instance:
        if fleet.serverless is None:
            raise ModelNotReady(f"Endpoint {endpoint} variant {fleet.name} has no healthy instance.")
        with self._cold_start:
            instance = fleet.pick()
            if instance is not None:
                return instance
            try:
                return fleet.launch_instance()
            except FleetStartError as exc:
                raise ModelError(f"The serverless variant {fleet.name} could not start: {exc}") from exc

    def _call_instance(self, endpoint: str, fleet: VariantFleet, instance: Instance, invocation: Invocation) -> tuple[bytes, str, str | None]:
        with instance.lock:
            instance.in_flight += 1
        instance.last_used = time.time()
        try:
            body, content_type = invocation.body, invocation.content_type
            attributes = invocation.custom_attributes
            for index, server in enumerate(instance.servers):
                headers = {"Content-Type": content_type}
                last = index == len(instance.servers) - 1
                if invocation.accept and last:
                    headers["Accept"] = invocation.accept
                if attributes:
                    headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
                response = self._client.post(f"{server.url}/invocations", content=body, headers=headers)
                if response.status_code >= 400:
                    container = "primary" if len(instance.servers) == 1 else f"container-{index + 1}"
                    message = response.text
                    raise ModelError(
                        f'Received {"client" if response.status_code < 500 else "server"} error '
                        f'({response.status_code}) from {container} with message "{message}". '
                        f"See {self._log_stream(endpoint)} for more information.",
                        OriginalStatusCode=response.status_code,
                        OriginalMessage=message,
                        LogStreamArn=self._log_stream(endpoint),
                    )
                body = response.content
                content_type = response.headers.get("content-type", "application/octet-stream")
                attributes = response.headers.get("x-amzn-sagemaker-custom-attributes", attributes)
            return body, content_type, attributes
        finally:
            with instance.lock:
                instance.in_flight -= 1

    def _log_stream(self, endpoint: str) -> str:
        return f"arn:aws:logs:{self._region}:{self._account_id}:log-group:/aws/sagemaker/Endpoints/{endpoint}"

    def _shadow(self, endpoint: str, fleet: VariantFleet, invocation: Invocation, capture: dict[str, Any] | None) -> None:
        """Shadow variants get a copy of the request; their answers are only recorded."""
        try:
            body, content_type, _ = self._call_fleet(endpoint, fleet, invocation)
        except InvocationError as exc:
            log.info("shadow variant %s of %s answered an error: %s", fleet.name, endpoint, exc.message)
            return
        moment = datetime.now(UTC)
        if self.capture.sampled(capture):
            record = capture_record(capture, invocation.body, invocation.content_type, body, content_type, invocation.inference_id, moment)  # type: ignore[arg-type]
            self.capture.add(capture, endpoint, fleet.name, record, moment)  # type: ignore[arg-type]

    # -- InvokeEndpointAsync -------------------------------------------------------

    def invoke_async(self, name: str, input_location: str, invocation: Invocation) -> dict[str, str]:
        record, _ = self._endpoints.live(name)
        config = record.document["_sagebox"]["config"].get("AsyncInferenceConfig")
        if not config:
            raise InvocationValidationError(f"Endpoint {name} is not an asynchronous endpoint: its configuration has no AsyncInferenceConfig.")
        try:
            parse_s3_uri(input_location)
        except ValueError as exc:
            raise InvocationValidationError(f"InputLocation: {exc}") from exc
        inference_id = invocation.inference_id or str(uuid.uuid4())
        output = config["OutputConfig"]
        output_location = f"{output['S3OutputPath'].rstrip('/')}/{inference_id}.out"
        failure_path = output.get("S3FailurePath") or output["S3OutputPath"]
        failure_location = f"{failure_path.rstrip('/')}/{inference_id}-error.out"
        self._background.submit(self._run_async, name, input_location, invocation, output_location, failure_location)
        return {"InferenceId": inference_id, "OutputLocation": output_location, "FailureLocation": failure_location}

    def _run_async(self, name: str, input_location: str, invocation: Invocation, output: str, failure: str) -> None:
        try:
            body = self._objects.read_bytes(input_location)
            request = Invocation(body, invocation.content_type, invocation.accept, invocation.custom_attributes, None, invocation.inference_id)
            result = self.invoke(name, request, payload_limit=MAX_ASYNC_PAYLOAD_BYTES)
            self._put(output, result.body, result.content_type)
        except (InvocationError, ObjectStoreError) as exc:
            self._put(failure, str(exc).encode(), "text/plain")

    def _put(self, uri: str, body: bytes, content_type: str) -> None:
        bucket, key = parse_s3_uri(uri)
        try:
            self._objects.put_object(bucket, key, body, content_type=content_type)
        except ObjectStoreError as exc:
            log.warning("could not write %s: %s", uri, exc)

    def close(self) -> None:
        self._background.shutdown(wait=True, cancel_futures=False)
        self.capture.flush()
        self._client.close()
