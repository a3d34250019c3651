"""Shadow endpoints a processing job leaves behind are deleted when the job ends."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from sagebox.analysis.clarify.endpoint import SHADOW_OWNER_TAG, _owner_tags
from tests.services.processing.clarify.conftest import ClarifyData
from tests.services.processing.jobs import python_job
from tests.services.processing.jobs import wait_for as wait_for_processing
from tests.services.training.jobs import unique


def _endpoint(sagemaker: Any, name: str, model: str, tags: list[dict[str, str]]) -> None:
    variant = {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant], Tags=tags)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)


def _gone(sagemaker: Any, name: str, timeout: float = 30) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = sagemaker.list_endpoints(NameContains=name)["Endpoints"]
        configs = sagemaker.list_endpoint_configs(NameContains=name)["EndpointConfigs"]
        if not configs and all(e["EndpointStatus"] == "Deleting" for e in left):
            return True
        time.sleep(0.2)
    return False


def test_endpoints_tagged_with_a_job_go_when_it_ends_and_others_stay(sagemaker: Any, clarify_data: ClarifyData) -> None:
    job = unique("owner")
    arn = sagemaker.create_processing_job(**python_job(job, "import time; time.sleep(3)"))["ProcessingJobArn"]
    orphan, kept = unique("orphan"), unique("kept")
    _endpoint(sagemaker, orphan, clarify_data.model_name, [{"Key": SHADOW_OWNER_TAG, "Value": arn}])
    _endpoint(sagemaker, kept, clarify_data.model_name, [{"Key": SHADOW_OWNER_TAG, "Value": arn + "-other"}])
    assert wait_for_processing(sagemaker, job)["ProcessingJobStatus"] == "Completed"
    assert _gone(sagemaker, orphan), "the endpoint the job left behind must be deleted"
    assert sagemaker.describe_endpoint_config(EndpointConfigName=kept)["EndpointConfigName"] == kept
    assert sagemaker.describe_endpoint(EndpointName=kept)["EndpointStatus"] != "Deleting"
    sagemaker.delete_endpoint(EndpointName=kept)
    sagemaker.delete_endpoint_config(EndpointConfigName=kept)


def test_a_clarify_job_tags_its_shadow_endpoint_with_its_own_arn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    assert _owner_tags() == []
    (tmp_path / "config").mkdir()
    arn = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/bias"
    (tmp_path / "config" / "processingjobconfig.json").write_text(json.dumps({"ProcessingJobArn": arn}))
    assert _owner_tags() == [{"Key": SHADOW_OWNER_TAG, "Value": arn}]
