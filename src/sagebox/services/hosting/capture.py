"""Data capture: requests and responses in SageMaker's capture JSON Lines format.

Records go to `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<id>.jsonl`,
buffered and written as one object per flush, as SageMaker writes them.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError

log = logging.getLogger(__name__)

DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json", "application/jsonlines")


def _encoding(content_type: str, capture: dict[str, Any]) -> str:
    header = capture.get("CaptureContentTypeHeader") or {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media in [t.lower() for t in header.get("CsvContentTypes") or DEFAULT_CSV_TYPES]:
        return "CSV"
    if media in [t.lower() for t in header.get("JsonContentTypes") or DEFAULT_JSON_TYPES]:
        return "JSON"
    return "BASE64"


def _payload(body: bytes, content_type: str, mode: str, capture: dict[str, Any]) -> dict[str, Any]:
    encoding = _encoding(content_type, capture)
    data = base64.b64encode(body).decode() if encoding == "BASE64" else body.decode("utf-8", "replace")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def capture_record(
    capture: dict[str, Any],
    request_body: bytes,
    request_type: str,
    response_body: bytes,
    response_type: str,
    inference_id: str | None,
    moment: datetime,
) -> dict[str, Any]:
    modes = {o["CaptureMode"] for o in capture.get("CaptureOptions") or []} or {"Input", "Output"}
    data: dict[str, Any] = {}
    if "Input" in modes:
        data["endpointInput"] = _payload(request_body, request_type, "INPUT", capture)
    if "Output" in modes:
        data["endpointOutput"] = _payload(response_body, response_type, "OUTPUT", capture)
    metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
    if inference_id:
        metadata["inferenceId"] = inference_id
    return {"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}


class CaptureWriter:
    """Buffers capture records per endpoint, variant and hour; flush() writes them out."""

    def __init__(self, objects: ObjectStore) -> None:
        self._objects = objects
        self._buffers: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()

    @staticmethod
    def sampled(capture: dict[str, Any] | None) -> bool:
        if not capture or not capture.get("EnableCapture", True):
            return False
        return random.uniform(0, 100) < float(capture["InitialSamplingPercentage"])

    def add(self, capture: dict[str, Any], endpoint: str, variant: str, record: dict[str, Any], moment: datetime) -> None:
        prefix = (
            f"{capture['DestinationS3Uri'].rstrip('/')}/{endpoint}/{variant}/"
            f"{moment:%Y/%m/%d/%H}/"
        )
        with self._lock:
            self._buffers[prefix].append(json.dumps(record, separators=(",", ":")))

    def flush(self) -> None:
        with self._lock:
            buffers, self._buffers = self._buffers, defaultdict(list)
        now = datetime.now(UTC)
        for prefix, lines in buffers.items():
            uri = f"{prefix}{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            try:
                bucket, key = uri[5:].split("/", 1)
                self._objects.put_object(bucket, key, ("\n".join(lines) + "\n").encode(), content_type="application/jsonlines")
            except (ObjectStoreError, ValueError) as exc:
                log.warning("could not write %d captured records to %s: %s", len(lines), uri, exc)
