"""Reading the job folder as a SageMaker container does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagebox.algorithms.contract import ContractError, TrainingEnvironment
from sagebox.algorithms.xgboost.data import TrainingError, data_format


def write_config(base: Path, name: str, content: object) -> None:
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / name).write_text(content if isinstance(content, str) else json.dumps(content))


def test_load_reads_every_config_file(tmp_path: Path) -> None:
    write_config(tmp_path, "hyperparameters.json", {"num_round": "10", "eta": 0.5, "flag": True})
    write_config(
        tmp_path,
        "inputdataconfig.json",
        {
            "train": {
                "ContentType": "text/csv",
                "TrainingInputMode": "File",
                "CompressionType": "Gzip",
            },
            "validation": {},
        },
    )
    write_config(
        tmp_path, "resourceconfig.json", {"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}
    )
    env = TrainingEnvironment.load(tmp_path)
    assert env.hyperparameters == {"num_round": "10", "eta": "0.5", "flag": "true"}
    assert env.channels["train"].content_type == "text/csv"
    assert env.channels["train"].compression_type == "Gzip"
    assert env.channels["validation"].content_type is None
    assert env.channels["validation"].training_input_mode == "File"
    assert env.resource_config.current_host == "algo-2"
    assert env.resource_config.hosts == ("algo-1", "algo-2")
    assert env.model_dir == tmp_path / "model"
    assert env.output_data_dir == tmp_path / "output" / "data"
    assert env.failure_path == tmp_path / "output" / "failure"


def test_missing_files_mean_empty_configuration(tmp_path: Path) -> None:
    env = TrainingEnvironment.load(tmp_path)
    assert env.hyperparameters == {} and env.channels == {}
    assert env.resource_config.hosts == ("algo-1",)


def test_base_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, "hyperparameters.json", {"a": "1"})
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    env = TrainingEnvironment.load()
    assert env.base_dir == tmp_path and env.hyperparameters == {"a": "1"}


def test_invalid_json_is_a_contract_error(tmp_path: Path) -> None:
    write_config(tmp_path, "hyperparameters.json", "{not json")
    with pytest.raises(ContractError, match="hyperparameters.json is not valid JSON"):
        TrainingEnvironment.load(tmp_path)
    write_config(tmp_path, "hyperparameters.json", "[1, 2]")
    with pytest.raises(ContractError, match="must hold a JSON object"):
        TrainingEnvironment.load(tmp_path)


def test_channel_files_are_nested_sorted_and_skip_hidden(tmp_path: Path) -> None:
    channel = tmp_path / "input" / "data" / "train"
    for name in ("b.csv", "a/z.csv", "a/b/c.csv", ".hidden", ".git/config", "a/.DS_Store"):
        (channel / name).parent.mkdir(parents=True, exist_ok=True)
        (channel / name).write_text("1,2\n")
    env = TrainingEnvironment.load(tmp_path)
    relative = [path.relative_to(channel).as_posix() for path in env.channel_files("train")]
    assert relative == ["a/b/c.csv", "a/z.csv", "b.csv"]
    assert env.channel_files("validation") == []


def test_write_failure_replaces_the_message(tmp_path: Path) -> None:
    env = TrainingEnvironment(base_dir=tmp_path)
    env.write_failure("first")
    env.write_failure("ClientError: second")
    assert env.failure_path.read_text() == "ClientError: second"
    assert sorted(p.name for p in env.output_dir.iterdir()) == ["failure"]


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        (None, "libsvm"),
        ("", "libsvm"),
        ("text/libsvm", "libsvm"),
        ("text/x-libsvm", "libsvm"),
        ("libsvm", "libsvm"),
        ("text/csv", "csv"),
        ("TEXT/CSV", "csv"),
        ("csv", "csv"),
        ("text/csv; label_size=1", "csv"),
    ],
)
def test_content_types(content_type: str | None, kind: str) -> None:
    assert data_format(content_type) == kind


@pytest.mark.parametrize(
    "content_type", ["text/csv;label_size=2", "application/x-recordio-protobuf"]
)
def test_unsupported_content_types(content_type: str) -> None:
    with pytest.raises(TrainingError, match="is not supported"):
        data_format(content_type)
