"""The model a Clarify job asks for predictions, reached as Clarify reaches it: through the
SageMaker API of the environment (boto3 with AWS_ENDPOINT_URL and the job's credentials).

``predictor.endpoint_name`` names an endpoint that is used as it is. ``predictor.model_name``
gets a shadow endpoint: an endpoint configuration and endpoint named
``<endpoint_name_prefix or sm-clarify>-<model>-<random>`` with one variant of the model on
``initial_instance_count`` x ``instance_type``, created when the job starts and deleted
(endpoint, then configuration) when it ends, whether it succeeded or not. Both carry the
tag ``SHADOW_OWNER_TAG`` with the job's ARN, so that the server deletes them if the job's
process dies before it can (services/hosting/job_endpoints.py).

Records go to the model in batches (at most MAX_RECORDS and about MAX_BYTES a request); a
batch the model fails on is retried a record at a time, as Clarify falls back to
per-record predictions, and a record the model still fails on fails the job with the
model's message.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from sagebox.analysis.clarify.config import PredictorSpec
from sagebox.analysis.clarify.errors import ClarifyError
from sagebox.analysis.clarify.model_io import parse_answer, records_of, serialize

log = logging.getLogger("sagebox.clarify")
MAX_RECORDS = 1000
MAX_BYTES = 5 * 1024 * 1024
ENDPOINT_WAIT_SECONDS = 1800.0
DEFAULT_PREFIX = "sm-clarify"
SHADOW_OWNER_TAG = "sagebox:shadow-endpoint-of"


def _owner_tags() -> list[dict[str, str]]:
    """The tag naming this processing job, from its processingjobconfig.json."""
    config = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "config" / "processingjobconfig.json"
    try:
        arn = json.loads(config.read_text(encoding="utf-8")).get("ProcessingJobArn")
    except (OSError, ValueError):
        return []
    return [{"Key": SHADOW_OWNER_TAG, "Value": arn}] if isinstance(arn, str) and arn else []


def _message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"
    return str(exc)


def shadow_endpoint_name(spec: PredictorSpec) -> str:
    """A name within EndpointName's 63 characters and pattern, unique per job."""
    prefix = (spec.endpoint_name_prefix or DEFAULT_PREFIX)[:23]
    model = "".join(c if c.isalnum() else "-" for c in str(spec.model_name)).strip("-")
    stem = f"{prefix}-{model}"[: 63 - 9].rstrip("-")
    return f"{stem}-{secrets.token_hex(4)}"


@contextmanager
def model_endpoint(spec: PredictorSpec, sagemaker: Any) -> Iterator[str]:
    """The endpoint to invoke: the given one, or a shadow endpoint for the job's lifetime."""
    if spec.endpoint_name:
        try:
            status = sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)["EndpointStatus"]
        except (ClientError, BotoCoreError) as exc:
            raise ClarifyError(f"Could not use predictor.endpoint_name '{spec.endpoint_name}': {_message(exc)}") from exc
        if status not in ("InService", "Updating"):
            raise ClarifyError(f"The endpoint '{spec.endpoint_name}' is {status}; Clarify needs it InService.")
        yield spec.endpoint_name
        return
    name = shadow_endpoint_name(spec)
    variant: dict[str, Any] = {
        "VariantName": "AllTraffic",
        "ModelName": spec.model_name,
        "InitialInstanceCount": spec.initial_instance_count or 1,
        "InstanceType": spec.instance_type,
    }
    if spec.accelerator_type:
        variant["AcceleratorType"] = spec.accelerator_type
    tags = _owner_tags()
    try:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant], Tags=tags)
    except (ClientError, BotoCoreError) as exc:
        raise ClarifyError(f"Could not create the shadow endpoint for predictor.model_name '{spec.model_name}': {_message(exc)}") from exc
    try:
        log.info("creating shadow endpoint %s for model %s", name, spec.model_name)
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)
        _wait_in_service(sagemaker, name)
        yield name
    finally:
        _delete_quietly(sagemaker, name)


def _wait_in_service(sagemaker: Any, name: str) -> None:
    deadline = time.monotonic() + ENDPOINT_WAIT_SECONDS
    while True:
        described = sagemaker.describe_endpoint(EndpointName=name)
        status = described["EndpointStatus"]
        if status == "InService":
            return
        if status in ("Failed", "OutOfService", "Deleting"):
            raise ClarifyError(f"The shadow endpoint {name} did not start ({status}): {described.get('FailureReason', '')}")
        if time.monotonic() > deadline:
            raise ClarifyError(f"The shadow endpoint {name} was not InService after {ENDPOINT_WAIT_SECONDS:.0f} s.")
        time.sleep(0.5)


def _delete_quietly(sagemaker: Any, name: str) -> None:
    for call, member in ((sagemaker.delete_endpoint, "EndpointName"), (sagemaker.delete_endpoint_config, "EndpointConfigName")):
        try:
            call(**{member: name})
        except (ClientError, BotoCoreError) as exc:
            log.warning("could not delete shadow %s %s: %s", member, name, _message(exc))


class ModelClient:
    """Invokes one endpoint with records and returns (labels, scores) per record."""

    def __init__(self, runtime: Any, endpoint_name: str, spec: PredictorSpec, feature_names: list[str]) -> None:
        self._runtime = runtime
        self._endpoint = endpoint_name
        self._spec = spec
        self._names = feature_names
        self.invocations = 0

    def answers(self, rows: np.ndarray | list[list[Any]]) -> tuple[list[Any] | None, list[Any] | None]:
        rows = [list(r) for r in rows]
        labels: list[Any] = []
        scores: list[Any] = []
        has_labels = has_scores = False
        for batch in self._batches(rows):
            batch_labels, batch_scores = self._answer(batch)
            if batch_labels is not None:
                has_labels = True
                labels.extend(batch_labels)
            if batch_scores is not None:
                has_scores = True
                scores.extend(batch_scores)
        return (labels if has_labels else None), (scores if has_scores else None)

    def _batches(self, rows: list[list[Any]]) -> Iterator[list[list[Any]]]:
        if not rows:
            return
        width = max(1, len(",".join(map(str, rows[0]))) + 1)
        size = max(1, min(MAX_RECORDS, MAX_BYTES // (width * 2)))
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    def _invoke(self, body: bytes) -> bytes:
        arguments: dict[str, Any] = {
            "EndpointName": self._endpoint,
            "Body": body,
            "ContentType": self._spec.content_type or "text/csv",
            "Accept": self._spec.accept_type or "text/csv",
        }
        if self._spec.target_model:
            arguments["TargetModel"] = self._spec.target_model
        if self._spec.custom_attributes:
            arguments["CustomAttributes"] = self._spec.custom_attributes
        self.invocations += 1
        return self._runtime.invoke_endpoint(**arguments)["Body"].read()

    def _answer(self, batch: list[list[Any]]) -> tuple[list[Any] | None, list[Any] | None]:
        bodies = serialize(batch, self._names, self._spec)
        per_body = len(batch) // len(bodies)
        labels: list[Any] = []
        scores: list[Any] = []
        has_labels = has_scores = False
        for body in bodies:
            try:
                answer = parse_answer(self._invoke(body), self._spec.accept_type or "text/csv", per_body)
            except (ClientError, BotoCoreError) as exc:
                if len(batch) > 1 and len(bodies) == 1:
                    log.warning("Fallback to per-record prediction because of model error: %s", _message(exc))
                    return self._one_by_one(batch)
                raise ClarifyError(f"The model at endpoint {self._endpoint} failed: {_message(exc)}") from exc
            part_labels, part_scores = records_of(answer, self._spec, per_body)
            if part_labels is not None:
                has_labels = True
                labels.extend(part_labels)
            if part_scores is not None:
                has_scores = True
                scores.extend(part_scores)
        return (labels if has_labels else None), (scores if has_scores else None)

    def _one_by_one(self, batch: list[list[Any]]) -> tuple[list[Any] | None, list[Any] | None]:
        answers = [self._answer([row]) for row in batch]
        labels = [a[0][0] for a in answers] if answers[0][0] is not None else None  # type: ignore[index]
        scores = [a[1][0] for a in answers] if answers[0][1] is not None else None  # type: ignore[index]
        return labels, scores
