"""The container contract as a job sees it: folders, config files, SM_* variables."""

from __future__ import annotations

import json
from pathlib import Path

from sagebox.runtime.training_workspace import ChannelSpec, TrainingWorkspace


def test_layout_and_environment(tmp_path: Path) -> None:
    workspace = TrainingWorkspace(tmp_path / "job")
    channels = [ChannelSpec("train", "text/csv"), ChannelSpec("validation", "text/csv")]
    hyperparameters = {"num_round": "10", "eta": "0.1"}
    workspace.create(hyperparameters, channels)
    config = workspace.root / "input" / "config"
    assert json.loads((config / "hyperparameters.json").read_text()) == hyperparameters
    assert json.loads((config / "inputdataconfig.json").read_text()) == {
        "train": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None", "ContentType": "text/csv"},
        "validation": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None", "ContentType": "text/csv"},
    }
    resource = json.loads((config / "resourceconfig.json").read_text())
    assert resource["current_host"] == "algo-1" and resource["hosts"] == ["algo-1"]
    for folder in ("input/data/train", "input/data/validation", "model", "output/data", "checkpoints"):
        assert (workspace.root / folder).is_dir()

    env = workspace.environment(
        job_name="j", job_arn="arn:j", hyperparameters=hyperparameters, channels=channels,
        user_environment={"MY_VAR": "1"}, base={"PATH": "/usr/bin"},
    )
    root = str(workspace.root)
    assert env["SAGEMAKER_BASE_DIR"] == root
    assert env["SM_MODEL_DIR"] == f"{root}/model"
    assert env["SM_CHANNEL_TRAIN"] == f"{root}/input/data/train"
    assert json.loads(env["SM_CHANNELS"]) == ["train", "validation"]
    assert json.loads(env["SM_HPS"]) == hyperparameters and env["SM_HP_ETA"] == "0.1"
    assert env["SM_HOSTS"] == '["algo-1"]' and env["SM_CURRENT_HOST"] == "algo-1"
    assert env["TRAINING_JOB_NAME"] == "j" and env["TRAINING_JOB_ARN"] == "arn:j"
    assert env["MY_VAR"] == "1" and env["PATH"] == "/usr/bin"
