"""CloudWatch in its older protocols: the same operations through botocore clients whose
model says `query` (the AWS CLI v1 and older SDKs) or `json` (JSON 1.0)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import ClientError


def client_speaking(protocol: str, endpoint_url: str, folder: Path) -> Any:
    """A botocore CloudWatch client whose service model names only `protocol`."""
    model = botocore.loaders.create_loader().load_service_model("cloudwatch", "service-2")
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    target = folder / protocol / "cloudwatch" / model["metadata"]["apiVersion"]
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(folder / protocol))
    return session.create_client("cloudwatch", endpoint_url=endpoint_url, region_name="us-east-1")


@pytest.mark.parametrize("protocol", ["query", "json"])
def test_publish_read_list_and_errors(sagebox_server: Any, tmp_path: Path, protocol: str) -> None:
    cloudwatch = client_speaking(protocol, sagebox_server.endpoint_url, tmp_path)
    sent: list[dict[str, Any]] = []
    cloudwatch.meta.events.register("before-send", lambda request, **_: sent.append(
        {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    ns, now = f"Proto/{uuid.uuid4().hex[:6]}", datetime.now(UTC)
    dims = [{"Name": "EndpointName", "Value": "e"}, {"Name": "VariantName", "Value": "v"}]
    cloudwatch.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Invocations", "Dimensions": dims, "Values": [1.0, 2.0], "Counts": [2.0, 1.0], "Timestamp": now},
    ])
    points = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Invocations", Dimensions=dims, StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1), Period=300, Statistics=["Sum", "SampleCount"], Unit="None",
    )["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in points] == [(4.0, 3.0)]
    metrics = cloudwatch.list_metrics(Namespace=ns, Dimensions=[{"Name": "VariantName", "Value": "v"}])["Metrics"]
    assert metrics == [{"Namespace": ns, "MetricName": "Invocations", "Dimensions": dims}]
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "q", "Label": "calls", "MetricStat": {
            "Metric": {"Namespace": ns, "MetricName": "Invocations", "Dimensions": dims}, "Period": 60, "Stat": "Average"}}],
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"]
    assert [(r["Label"], r["Values"]) for r in data] == [("calls", [pytest.approx(4 / 3)])]
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_statistics(Namespace=ns, MetricName="Invocations", StartTime=now, EndTime=now,
                                         Period=60, Statistics=["Sum"])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "StartTime must be less than" in raised.value.response["Error"]["Message"]
    if protocol == "query":
        assert any("x-www-form-urlencoded" in h.get("Content-Type", "") for h in sent)
    else:
        assert any(h.get("X-Amz-Target", "").startswith("GraniteServiceVersion20100801.") for h in sent)
