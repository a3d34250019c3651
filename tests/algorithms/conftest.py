"""Fixtures for algorithm tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.algorithms.xgboost_jobs import Job, JobFactory


@pytest.fixture
def make_job(tmp_path: Path) -> JobFactory:
    """Create a job folder: config files plus optional channel files {channel: {name: content}}."""

    def create(
        hyperparameters: dict[str, str],
        channels: dict[str, dict[str, str | bytes]] | None = None,
        content_type: str | None = "text/csv",
        hosts: tuple[str, ...] = ("algo-1",),
    ) -> Job:
        base = tmp_path / "job"
        config = base / "input" / "config"
        config.mkdir(parents=True)
        (base / "model").mkdir()
        (base / "output" / "data").mkdir(parents=True)
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        channels = channels or {}
        data_config = {}
        for channel in channels:
            entry = {
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
            }
            if content_type is not None:
                entry["ContentType"] = content_type
            data_config[channel] = entry
        (config / "inputdataconfig.json").write_text(json.dumps(data_config))
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": hosts[0], "hosts": list(hosts)})
        )
        job = Job(base)
        for channel, files in channels.items():
            (base / "input" / "data" / channel).mkdir(parents=True, exist_ok=True)
            for name, content in files.items():
                job.write_channel_file(channel, name, content)
        return job

    return create
