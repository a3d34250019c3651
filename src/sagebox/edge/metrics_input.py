"""BatchPutMetrics' body read on the event loop, for the common well-formed request.

BatchPutMetrics is the one call made a thousand times a second (a training run logs
every step), so its body skips the generic JSON 1.1 steps (json_body, the model-driven
validator in json_protocol, a worker thread) when it plainly needs none of them: a JSON
object with only TrialComponentName and MetricData, one to ten points with only the
model's four members, names within their lengths and patterns, numeric timestamps
between 1970 and 3000, steps that are 32-bit integers >= 0 and finite values. Such a body
is valid by every rule of the generic path and decodes to the same input. Anything else
(a bad or unusual body: ISO timestamps as strings, nulls, unknown members, escapes that
could hide an unpaired surrogate, other encodings, a body large enough that parsing it
belongs off the event loop) gets `None`, and the caller runs the
generic path, which refuses it with AWS's wording or takes it. This module only ever
says yes to less, never to more, so the error messages stay the generic path's own.

The limits come from botocore's model of sagemaker-metrics, not from copies here.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sagebox.edge.json_protocol import compiled_pattern
from sagebox.edge.json_requests import LARGE_BODY_BYTES
from sagebox.service_models import service_model

_SHAPES = service_model("sagemaker-metrics").shape_for
_REQUEST = _SHAPES("BatchPutMetricsRequest")
_DATUM = _SHAPES("RawMetricData")
_NAME = _REQUEST.members["TrialComponentName"]  # type: ignore[attr-defined]
_DATA = _REQUEST.members["MetricData"]  # type: ignore[attr-defined]
_METRIC = _DATUM.members["MetricName"]  # type: ignore[attr-defined]
_STEP = _DATUM.members["Step"]  # type: ignore[attr-defined]

_REQUEST_MEMBERS = frozenset(_REQUEST.members)  # type: ignore[attr-defined]
_DATUM_MEMBERS = frozenset(_DATUM.members)  # type: ignore[attr-defined]
_DATUM_REQUIRED = frozenset(_DATUM.required_members)  # type: ignore[attr-defined]
_NAME_LENGTHS = (_NAME.metadata.get("min", 0), _NAME.metadata.get("max", math.inf))
_NAME_PATTERN = compiled_pattern(_NAME.metadata["pattern"])
_DATA_LENGTHS = (_DATA.metadata.get("min", 0), _DATA.metadata.get("max", math.inf))
_METRIC_LENGTHS = (_METRIC.metadata.get("min", 0), _METRIC.metadata.get("max", math.inf))
_METRIC_PATTERN = compiled_pattern(_METRIC.metadata["pattern"])
_STEP_RANGE = (
    _STEP.metadata.get("min", -(2**31)),
    min(_STEP.metadata.get("max", 2**31 - 1), 2**31 - 1),
)
# Well inside the years 1 to 9999 the generic path allows (1970 to 3000), so that no
# rounding at the edges can make a timestamp this path takes one that path refuses.
_SECONDS_RANGE = (0, 32_503_680_000)


def batch_put_input(body: bytes) -> dict[str, Any] | None:
    """The decoded BatchPutMetrics input (timestamps as epoch seconds), or None when the
    body is not plainly valid and the generic path must read it."""
    if len(body) >= LARGE_BODY_BYTES:  # parsed off the event loop, by the generic path
        return None
    if b"\\u" in body:  # an escape might be an unpaired surrogate: json_body checks those
        return None
    try:
        return _read(body)
    except (
        ValueError,
        RecursionError,
        OverflowError,
        TypeError,
    ):  # not plainly valid, whatever the cause
        return None


def _read(body: bytes) -> dict[str, Any] | None:
    params = json.loads(body.decode("utf-8"), parse_constant=_refuse)
    if type(params) is not dict or params.keys() != _REQUEST_MEMBERS:
        return None
    name, data = params["TrialComponentName"], params["MetricData"]
    if type(name) is not str or not _is_component_name(name):
        return None
    if type(data) is not list or not _DATA_LENGTHS[0] <= len(data) <= _DATA_LENGTHS[1]:
        return None
    points = []
    for datum in data:
        point = _point(datum)
        if point is None:
            return None
        points.append(point)
    return {"TrialComponentName": name, "MetricData": points}


def _point(datum: Any) -> dict[str, Any] | None:
    if type(datum) is not dict:
        return None
    members = datum.keys()
    if not members <= _DATUM_MEMBERS or not members >= _DATUM_REQUIRED:
        return None
    value, timestamp = datum["Value"], datum["Timestamp"]
    if type(value) not in (int, float) or not math.isfinite(value):
        return None
    if (
        type(timestamp) not in (int, float)
        or not _SECONDS_RANGE[0] <= timestamp <= _SECONDS_RANGE[1]
    ):
        return None
    metric = datum["MetricName"]
    if type(metric) is not str or not _is_metric_name(metric):
        return None
    step = datum.get("Step")
    if "Step" in datum and (type(step) is not int or not _STEP_RANGE[0] <= step <= _STEP_RANGE[1]):
        return None
    if type(timestamp) is float:  # kept to the microsecond, as the generic path's datetime keeps it
        timestamp = datetime.fromtimestamp(timestamp, UTC).timestamp()
    point = {"MetricName": metric, "Timestamp": float(timestamp), "Value": value}
    if step is not None:
        point["Step"] = step
    return point


# A run sends the same component and metric names in every request: each is checked once.
@lru_cache(maxsize=4096)
def _is_component_name(value: str) -> bool:
    return _fits(value, _NAME_LENGTHS, _NAME_PATTERN)


@lru_cache(maxsize=4096)
def _is_metric_name(value: str) -> bool:
    return _fits(value, _METRIC_LENGTHS, _METRIC_PATTERN)


def _fits(value: str, lengths: tuple[float, float], pattern: Any) -> bool:
    # concurrent=False: `regex` otherwise lets go of the interpreter lock for each match,
    # and the event loop then waits for the metric writer thread to hand it back.
    return lengths[0] <= len(value) <= lengths[1] and (
        pattern is None or pattern.fullmatch(value, concurrent=False) is not None
    )


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
