"""BatchPutMetrics' lean reader takes only bodies the generic JSON 1.1 path takes, and reads
them the same way; everything else is left to the generic path (and its error wording)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sagebox.edge import json_requests
from sagebox.edge.metrics_input import batch_put_input
from sagebox.services.experiments.entities import epoch


def _generic(body: bytes) -> dict[str, Any] | None:
    kind, value, _ = json_requests.read_input("sagemaker-metrics", "BatchPutMetrics", body)
    return value if kind == "input" else None


def _point(**members: Any) -> dict[str, Any]:
    return {"MetricName": "loss", "Value": 0.5, "Timestamp": 1_767_000_000, **members}


def _body(data: Any, name: Any = "run-1", **extra: Any) -> bytes:
    return json.dumps({"TrialComponentName": name, "MetricData": data, **extra}).encode()


TAKEN = [
    _body([_point()]),
    _body([_point(Step=0), _point(Step=2**31 - 1, Value=3)] + [_point()] * 8),
    _body([_point(Timestamp=1_767_000_000.123456789, MetricName="a b/c:d")]),
    _body([_point(Value=-1e308)], name="a" * 120),
    _body([_point(MetricName="line\nbreak")]),  # the model's ".+" is read with DOTALL
]
LEFT = [
    b"",
    b"[]",
    b"{not json",
    b'{"TrialComponentName": "run", "MetricData": [{"MetricName": "\\ud800", "Value": 1, "Timestamp": 1}]}',
    b'{"TrialComponentName": "run", "MetricData": [{"MetricName": "m", "Value": NaN, "Timestamp": 1}]}',
    '{"TrialComponentName": "r\u00e9"}'.encode("utf-16"),
    _body([]),
    _body([_point()] * 11),
    _body([_point()], name="Upper-Case"),
    _body([_point()], name="a" * 121),
    _body([_point()], name=None),
    _body([_point()], Extra=1),
    _body({"not": "a list"}),
    _body([None]),
    _body([_point(Step=-1)]),
    _body([_point(Step=2**31)]),
    _body([_point(Step=1.5)]),
    _body([_point(Step=True)]),
    _body([_point(Step=None)]),
    _body([_point(Value=True)]),
    _body([_point(Value="1")]),
    _body([_point(Value=10**400)]),
    _body([_point(Timestamp="2026-01-01T00:00:00Z")]),
    _body([_point(Timestamp=-1)]),
    _body([_point(Timestamp=1e300)]),
    _body([_point(MetricName="")]),
    _body([_point(MetricName="m" * 256)]),
    _body([_point(Unknown=1)]),
    _body([{"MetricName": "m", "Value": 1.0}]),
    _body([_point()], Padding="x" * 300_000),
]


@pytest.mark.parametrize("body", TAKEN)
def test_a_plainly_valid_body_reads_as_the_generic_path_reads_it(body: bytes) -> None:
    lean, generic = batch_put_input(body), _generic(body)
    assert lean is not None and generic is not None
    assert lean["TrialComponentName"] == generic["TrialComponentName"]
    assert len(lean["MetricData"]) == len(generic["MetricData"])
    for mine, theirs in zip(lean["MetricData"], generic["MetricData"], strict=True):
        assert mine["Timestamp"] == epoch(theirs["Timestamp"])
        assert {k: v for k, v in mine.items() if k != "Timestamp"} == {
            k: v for k, v in theirs.items() if k != "Timestamp"
        }


@pytest.mark.parametrize("body", LEFT)
def test_anything_else_is_left_to_the_generic_path(body: bytes) -> None:
    assert batch_put_input(body) is None
