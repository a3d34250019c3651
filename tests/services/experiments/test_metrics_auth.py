"""`sagebox serve --auth`: the sagemaker-metrics client signs like the others and is checked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.edge.auth_server import client, create_key, start_server


def test_batch_put_metrics_needs_a_valid_signature(tmp_path: Path) -> None:
    key = create_key(tmp_path, "alice")
    server = start_server(tmp_path, "--auth")
    try:
        client("sagemaker", server.endpoint_url, key).create_trial_component(TrialComponentName="signed")
        point = {"MetricName": "loss", "Value": 0.5, "Timestamp": datetime.now(UTC)}
        metrics = client("sagemaker-metrics", server.endpoint_url, key)
        assert "Errors" not in metrics.batch_put_metrics(TrialComponentName="signed", MetricData=[point])
        forged = client("sagemaker-metrics", server.endpoint_url, (key.access_key_id, "not-the-secret"))
        with pytest.raises(ClientError) as refused:
            forged.batch_put_metrics(TrialComponentName="signed", MetricData=[point])
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"  # as SageMaker answers a bad signature
        described = client("sagemaker", server.endpoint_url, key).describe_trial_component(
            TrialComponentName="signed"
        )
        assert described["Metrics"][0]["Count"] == 1
    finally:
        server.stop()
