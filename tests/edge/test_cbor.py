"""sagebox's CBOR codec against botocore's own CBOR serializer and parser."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer

from sagebox.edge import cbor
from sagebox.service_models import service_model


def test_decodes_what_botocore_sends() -> None:
    operation = service_model("cloudwatch").operation_model("PutMetricData")
    moment = datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    request = {"Namespace": "N/é", "MetricData": [
        {"MetricName": "m" * 300, "Value": -1.5, "Timestamp": moment, "StorageResolution": 60,
         "Dimensions": [{"Name": "a", "Value": "b"}], "Values": [1e300, 0.0], "Counts": [70000.0, 1.0]}]}
    body = RpcV2CBORSerializer().serialize_to_request(request, operation)["body"]
    assert cbor.decode(body) == request


def test_botocore_reads_what_sagebox_encodes() -> None:
    operation = service_model("cloudwatch").operation_model("GetMetricStatistics")
    moment = datetime(2026, 1, 2, 3, 4, 0, tzinfo=UTC)
    answer = {"Label": "x", "Datapoints": [{"Timestamp": moment, "Sum": 2.5, "SampleCount": 3.0, "Unit": "Count",
                                            "ExtendedStatistics": {"p99": -4.25}}]}
    response = {"body": cbor.encode(answer), "headers": {"smithy-protocol": "rpc-v2-cbor"}, "status_code": 200}
    parsed = RpcV2CBORParser().parse(response, operation.output_shape)
    parsed.pop("ResponseMetadata")
    assert parsed == answer


@pytest.mark.parametrize("value", [0, 23, 24, 255, 256, 65536, 2**32, -1, -25, -(2**40), True, False, None, "", "x" * 1000,
                                   b"\x00\xff", [1, [2, {"a": None}]], {"k": [1.5, -0.0]}])
def test_round_trip(value: object) -> None:
    assert cbor.decode(cbor.encode(value)) == value


def test_special_floats_and_indefinite_lengths() -> None:
    assert math.isnan(cbor.decode(cbor.encode(float("nan"))))
    assert cbor.decode(cbor.encode(float("-inf"))) == float("-inf")
    # an indefinite array of an indefinite text string ("ab" in two chunks) and a half float 1.5
    assert cbor.decode(bytes([0x9F, 0x7F, 0x61, 0x61, 0x61, 0x62, 0xFF, 0xF9, 0x3E, 0x00, 0xFF])) == ["ab", 1.5]
    with pytest.raises(cbor.CBORError):
        cbor.decode(b"\x82\x01")
    with pytest.raises(cbor.CBORError):
        cbor.decode(b"\x01\x02")
