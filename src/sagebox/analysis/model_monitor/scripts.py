"""The user's record preprocessor and post-analytics processor scripts.

``record_preprocessor_script`` defines ``preprocess_handler(inference_record)`` (or
``(inference_record, logger)``): called once per captured record (an `InferenceRecord`,
with ``endpoint_input.data``, ``endpoint_output.data``, ``event_metadata.event_id`` ...;
for a baseline data set, the CSV line as a string), it returns the record's features as a
dict, a list of dicts (several rows), or an empty list to leave the record out.
``post_analytics_processor_script`` defines ``postprocess_handler()``, called once the
reports are written, with the job's Environment in the process environment.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sagebox.analysis.model_monitor.environment import AnalysisError

log = logging.getLogger("model_monitor.preprocessing")


class EventData:
    def __init__(self, data: dict[str, Any]) -> None:
        self.encoding = data.get("encoding")
        self.data = data.get("data")
        self.observedContentType = data.get("observedContentType")  # noqa: N815 - SageMaker's name
        self.mode = data.get("mode")

    def as_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "data": self.data, "observedContentType": self.observedContentType}


class EventMetadata:
    def __init__(self, metadata: dict[str, Any]) -> None:
        self.event_id = metadata.get("eventId")
        self.event_time = metadata.get("inferenceTime")
        self.inference_id = metadata.get("inferenceId")
        self.custom_attribute = metadata.get("customAttributes")


class InferenceRecord:
    """One captured record, as Model Monitor hands it to ``preprocess_handler``."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.event_dict = record
        capture = record.get("captureData") or {}
        self.event_metadata = EventMetadata(record.get("eventMetadata") or {})
        self.endpoint_input = EventData(capture["endpointInput"]) if "endpointInput" in capture else None
        self.endpoint_output = EventData(capture["endpointOutput"]) if "endpointOutput" in capture else None
        self.batch_transform_output = EventData(capture["batchTransformOutput"]) if "batchTransformOutput" in capture else None
        self.ground_truth = EventData(record["groundTruthData"]) if "groundTruthData" in record else None
        self.event_version = record.get("eventVersion")

    def as_dict(self) -> dict[str, Any]:
        return self.event_dict

    def __str__(self) -> str:
        return str(self.event_dict)


def _load(path: Path, what: str) -> ModuleType:
    if not path.is_file():
        raise AnalysisError(f"The {what} {path.name} was not found in the job's inputs.")
    spec = importlib.util.spec_from_file_location(f"sagebox_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise AnalysisError(f"The {what} {path.name} is not a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise AnalysisError(f"The {what} {path.name} failed to load: {exc!r}") from exc
    return module


class RecordPreprocessor:
    def __init__(self, path: Path) -> None:
        module = _load(path, "record preprocessor script")
        handler = getattr(module, "preprocess_handler", None)
        if not callable(handler):
            raise AnalysisError(f"The record preprocessor script {path.name} defines no preprocess_handler function.")
        self._handler: Callable[..., Any] = handler
        self._takes_logger = len(inspect.signature(handler).parameters) >= 2
        self.name = path.name

    def rows(self, record: Any) -> list[dict[str, Any]]:
        """The rows the handler makes of one record (none when it returns an empty list)."""
        try:
            result = self._handler(record, log) if self._takes_logger else self._handler(record)
        except Exception as exc:
            raise AnalysisError(f"preprocess_handler of {self.name} failed: {exc!r}") from exc
        if result is None:
            return []
        if isinstance(result, dict):
            return [result]
        if isinstance(result, list) and all(isinstance(item, dict) for item in result):
            return result
        raise AnalysisError(
            f"preprocess_handler of {self.name} returned a {type(result).__name__}; it must return a dict of "
            "features, a list of dicts, or an empty list to skip the record."
        )


def run_postprocessor(path: Path) -> None:
    module = _load(path, "post-analytics processor script")
    handler = getattr(module, "postprocess_handler", None)
    if not callable(handler):
        raise AnalysisError(f"The post-analytics processor script {path.name} defines no postprocess_handler function.")
    try:
        handler()
    except Exception as exc:
        raise AnalysisError(f"postprocess_handler of {path.name} failed: {exc!r}") from exc


def positional_names(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose keys are all positions (integers or digit strings such as
    ``str(i).zfill(20)``) renamed _c0, _c1, ... in that order; other rows unchanged."""
    renamed = []
    for row in rows:
        keys = list(row)
        if keys and all(isinstance(k, int) or (isinstance(k, str) and k.isdigit()) for k in keys):
            ordered = sorted(keys, key=lambda k: int(k))
            renamed.append({f"_c{i}": row[k] for i, k in enumerate(ordered)})
        else:
            renamed.append({str(k): v for k, v in row.items()})
    return renamed
