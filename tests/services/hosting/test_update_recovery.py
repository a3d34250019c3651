"""An UpdateEndpoint interrupted by a restart is resumed, or rolled back saying so.

Driven through the platform in this process: a first server deploys an endpoint and
goes away; its record is left Updating with the pending configuration, as a server
killed in the middle of an update leaves it; a second server on the same home starts.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost

from sagebox.config import Settings
from sagebox.services.platform import Platform
from tests.archives import tar_gz

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _model_archive(bias: float) -> bytes:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    booster = xgboost.train({"objective": "reg:squarederror"}, xgboost.DMatrix(x, label=x[:, 0] + bias), 3)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.ubj"
        booster.save_model(str(path))
        return tar_gz({"xgboost-model": path.read_bytes()})


def _wait(platform: Platform, endpoint: str, statuses: tuple[str, ...] = ("InService", "Failed")) -> dict[str, Any]:
    deadline = time.time() + 90
    while True:
        described = platform.endpoints.describe(endpoint)
        if described["EndpointStatus"] in statuses or time.time() > deadline:
            return described
        time.sleep(0.1)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A home with an endpoint `e` serving configuration `c1`, whose server has gone away."""
    platform = Platform(Settings(home=tmp_path))
    platform.start()
    try:
        platform.objects.create_bucket("models")
        platform.objects.put_object("models", "one/model.tar.gz", _model_archive(0.0))
        platform.objects.put_object("models", "two/model.tar.gz", _model_archive(100.0))
        platform.objects.put_object("models", "broken/model.tar.gz", b"this is not a tar.gz archive")
        for name, key in (("m1", "one"), ("m2", "two"), ("broken", "broken")):
            platform.models.create({"ModelName": name, "PrimaryContainer": {
                "Image": IMAGE, "ModelDataUrl": f"s3://models/{key}/model.tar.gz"}})
            platform.endpoint_configs.create({"EndpointConfigName": f"c-{name}", "ProductionVariants": [{
                "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large"}]})
        platform.endpoints.create({"EndpointName": "e", "EndpointConfigName": "c-m1"})
        assert _wait(platform, "e")["EndpointStatus"] == "InService"
    finally:
        platform.close()
    yield tmp_path


def _leave_updating(home: Path, to_config: str) -> None:
    """What a server killed after accepting UpdateEndpoint(to_config) leaves in its store."""
    platform = Platform(Settings(home=home))  # not started: only its store and services are used
    try:
        config = platform.endpoint_configs.describe(to_config)
        model = config["ProductionVariants"][0]["ModelName"]
        pending = {"config": config, "models": {model: platform.models.describe(model)}, "resolved_at": time.time()}

        def updating(record: Any) -> None:
            record.status = record.document["EndpointStatus"] = "Updating"
            record.document["_sagebox"]["pending"] = pending

        platform.store.resources("Endpoint").modify("e", updating)
    finally:
        platform.close()


def _predict(platform: Platform) -> float:
    deployment = platform.endpoints.live("e")
    (instance,) = deployment.variants["AllTraffic"].instances
    import httpx

    answer = httpx.post(f"{instance.servers[0].url}/invocations", content=b"0.5,0,0", headers={"Content-Type": "text/csv"})
    return float(answer.text.strip().split(",")[0].split("\n")[0])


def test_an_interrupted_update_goes_on_after_the_restart(home: Path) -> None:
    _leave_updating(home, "c-m2")
    platform = Platform(Settings(home=home))
    platform.start()
    try:
        described = _wait(platform, "e")
        assert described["EndpointStatus"] == "InService"
        assert described["EndpointConfigName"] == "c-m2"
        assert "FailureReason" not in described
        assert _predict(platform) > 50  # the second model (labels shifted by 100) answers
    finally:
        platform.close()


def test_an_interrupted_update_that_cannot_resume_rolls_back_saying_so(home: Path) -> None:
    _leave_updating(home, "c-broken")
    platform = Platform(Settings(home=home))
    platform.start()
    try:
        described = _wait(platform, "e")
        assert described["EndpointStatus"] == "InService"
        assert described["EndpointConfigName"] == "c-m1"
        assert "interrupted by a restart of sagebox" in described["FailureReason"]
        assert "c-broken" in described["FailureReason"]
        assert _predict(platform) < 50  # the first model still answers
    finally:
        platform.close()


def test_resolution_time_is_the_deployment_time_not_the_reading_time(home: Path) -> None:
    platform = Platform(Settings(home=home))
    platform.start()
    try:
        _wait(platform, "e")
        first = platform.endpoints.describe("e")["ProductionVariants"][0]["DeployedImages"][0]["ResolutionTime"]
        time.sleep(0.2)
        second = platform.endpoints.describe("e")["ProductionVariants"][0]["DeployedImages"][0]["ResolutionTime"]
        assert first == second
    finally:
        platform.close()
