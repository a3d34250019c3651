"""CloudWatch with authentication on: a signed CBOR request is served, a refused one is
answered in CBOR so that boto3 reads its code."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.edge.auth_server import client, create_key, start_server


def test_signed_and_refused_cloudwatch_requests(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = create_key(home)
    server = start_server(home, "--auth")
    try:
        cloudwatch = client("cloudwatch", server.endpoint_url, key)
        cloudwatch.put_metric_data(Namespace="Auth/Test", MetricData=[{"MetricName": "m", "Value": 1.0}])
        assert cloudwatch.list_metrics(Namespace="Auth/Test")["Metrics"][0]["MetricName"] == "m"
        stranger = client("cloudwatch", server.endpoint_url, ("AKIAUNKNOWNKEY000000", "x" * 40))
        with pytest.raises(ClientError) as raised:
            stranger.list_metrics(Namespace="Auth/Test")
        assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
        impostor = client("cloudwatch", server.endpoint_url, (key.access_key_id, "wrong" * 8))
        with pytest.raises(ClientError) as raised:
            impostor.list_metrics()
        assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
    finally:
        server.stop()
