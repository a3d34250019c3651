"""CreateEndpoint answers once the endpoint is InService, within SAGEBOX_ENDPOINT_READY_WAIT_SECONDS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from sagebox.cli.server_process import ServerProcess
from tests.services.hosting.conftest import TrainedModel, variant
from tests.services.training.jobs import unique


def test_the_first_describe_after_create_endpoint_finds_it_in_service(
    sagebox_server: Any, model_a: TrainedModel, tmp_path: Path
) -> None:
    # A second server reading the first one's objects, with a wait no model server start exceeds.
    settings = {
        "SAGEBOX_ENDPOINT_READY_WAIT_SECONDS": "120",
        "SAGEBOX_OBJECTS_URL": f"file://{sagebox_server.home / 'objects'}",
    }
    server = ServerProcess(tmp_path / "home", settings).start()
    try:
        client = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
        client.create_model(
            ModelName=model_a.model_name,
            ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
            PrimaryContainer={
                "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                "ModelDataUrl": model_a.model_data,
            },
        )
        config, endpoint = unique("config"), unique("endpoint")
        client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant("AllTraffic", model_a)])
        client.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
        assert client.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
        client.delete_endpoint(EndpointName=endpoint)
    finally:
        server.stop()
