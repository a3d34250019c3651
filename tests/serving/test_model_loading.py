"""Loading the model folder: what is served, and how a broken folder fails the start."""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import numpy as np
import pytest

from sagebox.algorithms.registry import ALGORITHMS
from sagebox.serving.errors import ModelLoadError
from sagebox.serving.handlers import load_handler
from sagebox.serving.handlers.xgboost import XGBoostHandler, find_model_file
from tests.serving.conftest import TrainedModel
from tests.serving.model_server import ModelServerProcess, run_to_exit
from tests.serving.payloads import csv_body, parse_csv


def test_every_built_in_algorithm_names_a_handler_module_and_nothing_else_loads() -> None:
    for spec in ALGORITHMS:  # the one table linking algorithms and their handlers
        assert importlib.import_module(spec.serving_module).load
    with pytest.raises(KeyError, match="a handler is a module of sagebox.serving.handlers"):
        load_handler("os", Path("."))
    with pytest.raises(KeyError, match="no such module"):
        load_handler("sagebox.serving.handlers.nope", Path("."))


@pytest.mark.parametrize("file_name", ["model.json", "model.ubj", "booster.bin"])
def test_a_single_saved_model_file_is_served(
    tmp_path: Path, models: dict[str, TrainedModel], file_name: str
) -> None:
    model = models["binary"]
    (tmp_path / "model").mkdir()
    kind = "json" if file_name.endswith(".json") else "ubj"
    (tmp_path / "model" / file_name).write_bytes(bytes(model.booster.save_raw(kind)))
    (tmp_path / "model" / "notes.txt").write_text("not a model")
    handler = load_handler("sagebox.serving.handlers.xgboost", tmp_path / "model")
    body, content_type = handler.predict(csv_body(model.rows), "text/csv", "")
    assert content_type == "text/csv; charset=utf-8"
    np.testing.assert_array_equal(parse_csv(body.decode()), model.predict(model.rows))


def test_xgboost_model_is_preferred(tmp_path: Path, models: dict[str, TrainedModel]) -> None:
    (tmp_path / "xgboost-model").write_bytes(b"x")
    (tmp_path / "other.json").write_bytes(b"{}")
    assert find_model_file(tmp_path) == tmp_path / "xgboost-model"


def write(model_dir: Path, files: dict[str, bytes]) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (model_dir / name).write_bytes(data)
    return model_dir


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no XGBoost model in the model folder: expected 'xgboost-model'"),
        ({"readme.txt": b"hi"}, "found readme.txt"),
        ({"a.json": b"{}", "b.ubj": b"{}"}, "several model files (a.json, b.ubj)"),
        ({"xgboost-model": b"not a model at all"}, "xgboost-model is not a model xgboost"),
        (
            {"xgboost-model": pickle.dumps({"booster": 1})},
            "xgboost-model is a pickled Python object",
        ),
    ],
)
def test_broken_model_folders_raise_model_load_error(
    tmp_path: Path, files: dict[str, bytes], message: str
) -> None:
    with pytest.raises(ModelLoadError) as raised:
        load_handler("sagebox.serving.handlers.xgboost", write(tmp_path / "model", files))
    assert message in str(raised.value)


def test_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_handler("sagebox.serving.handlers.xgboost", tmp_path / "absent")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "ModelLoadError: no XGBoost model in the model folder"),
        (
            {"xgboost-model": b"\x80\x04garbage"},
            "ModelLoadError: xgboost-model is a pickled Python",
        ),
        ({"xgboost-model": b"{broken"}, "ModelLoadError: xgboost-model is not a model xgboost"),
    ],
)
def test_server_with_a_broken_model_exits_1(
    tmp_path: Path, files: dict[str, bytes], message: str
) -> None:
    write(tmp_path / "model", files)
    finished = run_to_exit(tmp_path)
    assert finished.returncode == 1
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), finished.stderr
    assert "ready" not in finished.stdout


def test_server_reads_port_and_base_dir_from_the_environment(
    tmp_path: Path, models: dict[str, TrainedModel]
) -> None:
    model = models["regression"]
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(bytes(model.booster.save_raw("ubj")))
    server = ModelServerProcess(tmp_path, env={"SAGEMAKER_BATCH": "true"}).start()
    try:
        with server.client() as client:
            text = client.post("/invocations", content=csv_body(model.rows[:3])).text
    finally:
        server.stop()
    assert text == "".join(f"{v!r}\n" for v in model.predict(model.rows[:3]).tolist())


def test_bad_default_accept_is_a_load_error(models: dict[str, TrainedModel]) -> None:
    with pytest.raises(ModelLoadError, match="SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT 'text/html'"):
        XGBoostHandler(models["binary"].booster, default_accept="text/html")
