"""What SageMaker's own algorithms share: channel reading, metric lines, model files, the job runner."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sagebox.algorithms.amazon import data as channel_data
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import run
from sagebox.algorithms.amazon.metrics import MetricReporter, metric_definition
from sagebox.algorithms.amazon.model_io import ModelFileError, load_model, save_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.formats import recordio
from sagebox.formats.errors import FormatError


def job(tmp_path: Path, channels: dict[str, str | None], files: dict[str, bytes]) -> TrainingEnvironment:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    described = {name: ({"ContentType": ct} if ct else {}) for name, ct in channels.items()}
    (config / "inputdataconfig.json").write_text(json.dumps(described))
    for relative, body in files.items():
        path = tmp_path / "input" / "data" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return TrainingEnvironment.load(tmp_path)


def test_csv_with_and_without_a_label_column(tmp_path: Path) -> None:
    env = job(tmp_path, {"train": "text/csv", "test": "text/csv;label_size=0"},
              {"train/a.csv": b"1,0.5,2\n0,1.5,3\n", "test/a.csv": b"0.5,2\n"})
    train = channel_data.read_channel(env, "train", require_labels=True)
    assert train is not None and train.labels is not None
    np.testing.assert_array_equal(train.labels, [1, 0])
    np.testing.assert_array_equal(train.features, [[0.5, 2], [1.5, 3]])
    test = channel_data.read_channel(env, "test", feature_dim=2)
    assert test is not None and test.labels is None and test.num_features == 2
    assert channel_data.read_channel(env, "validation") is None


def test_recordio_dense_and_sparse_come_out_as_asked(tmp_path: Path) -> None:
    dense = np.arange(12, dtype=np.float32).reshape(4, 3)
    sparse = sp.csr_matrix(np.eye(4, 3, dtype=np.float32))
    env = job(tmp_path, {"train": None, "test": "application/x-recordio-protobuf"}, {
        "train/a.rec": recordio.write_dense(dense, np.ones(4, dtype=np.float32)),
        "test/b.rec": recordio.write_sparse(sparse),
    })
    train = channel_data.read_channel(env, "train", sparse=True)
    assert train is not None and train.is_sparse
    np.testing.assert_array_equal(train.features.toarray(), dense)
    test = channel_data.read_channel(env, "test", feature_dim=3)
    assert test is not None and not test.is_sparse
    np.testing.assert_array_equal(test.features, np.eye(4, 3))


def test_errors_name_the_problem(tmp_path: Path) -> None:
    env = job(tmp_path, {"train": "text/csv", "test": "text/csv", "bad": "application/x-parquet"},
              {"train/a.csv": b"1,2,3\n", "test/a.csv": b"1,2\n"})
    with pytest.raises(TrainingError, match="rows have 1 features, but 2 are expected"):
        channel_data.read_channel(env, "test", feature_dim=2)
    with pytest.raises(TrainingError, match="ContentType 'application/x-parquet' is not supported"):
        channel_data.read_channel(env, "bad")
    with pytest.raises(TrainingError, match="channel 'bad' is not supported"):
        channel_data.check_channels(env, ("train", "test"))
    unlabelled = job(tmp_path / "u", {"train": "text/csv;label_size=0"}, {"train/a.csv": b"1,2\n"})
    with pytest.raises(TrainingError, match="no labels"):
        channel_data.read_channel(unlabelled, "train", require_labels=True)


def test_streamed_batches_number_records_from_the_start_of_the_file(tmp_path: Path) -> None:
    rows = np.ones((7, 2), dtype=np.float32)
    good = recordio.write_dense(rows)
    wide = recordio.write_dense(np.ones((1, 3), dtype=np.float32))
    env = job(tmp_path, {"train": None}, {"train/a.rec": good + wide})
    batches = channel_data.stream_channel(env, "train", batch_size=3)
    with pytest.raises(FormatError, match=r"train/a.rec: record 8: expected 2 features, found 3"):
        list(batches)
    ok = job(tmp_path / "ok", {"train": None}, {"train/a.rec": good})
    sizes = [b.num_rows for b in channel_data.stream_channel(ok, "train", batch_size=3)]
    assert sizes == [3, 3, 1]


def test_metric_lines_are_read_back_by_their_definitions() -> None:
    out = io.StringIO()
    reporter = MetricReporter("algo-1", stream=out)
    reporter.quality("test", "msd", 1.25)
    reporter.quality("validation", "binary_classification_accuracy", 0.5, kind="score", epoch=3)
    reporter.progress(40)
    lines = out.getvalue().splitlines()
    assert lines[0] == "#quality_metric: host=algo-1, test msd <loss>=1.25"
    msd = metric_definition("test:msd")
    accuracy = metric_definition("validation:binary_classification_accuracy", "score")
    assert re.search(msd["Regex"], lines[0]).group(1) == "1.25"  # type: ignore[union-attr]
    assert re.search(accuracy["Regex"], lines[1]).group(1) == "0.5"  # type: ignore[union-attr]
    assert re.search(msd["Regex"], lines[1]) is None
    assert lines[2] == "#progress_metric: host=algo-1, completed 40.0 % of epochs"


def test_models_round_trip_and_refuse_foreign_files(tmp_path: Path) -> None:
    save_model(tmp_path, "model", {"w": np.arange(3.0)}, {"k": 2})
    arrays, settings = load_model(tmp_path, "model")
    np.testing.assert_array_equal(arrays["w"], [0, 1, 2])
    assert settings == {"k": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    np.savez(tmp_path / "other.npz", w=np.ones(2))
    with pytest.raises(ModelFileError, match="has no settings"):
        load_model(tmp_path, "other")
    with pytest.raises(ModelFileError, match="no 'absent.npz'"):
        load_model(tmp_path, "absent")


def test_the_runner_turns_errors_into_failure_reasons(tmp_path: Path) -> None:
    env = job(tmp_path, {}, {})

    def client_error(_: TrainingEnvironment) -> None:
        raise TrainingError("k must be at most the number of rows")

    def crash(_: TrainingEnvironment) -> None:
        raise ZeroDivisionError("oops")

    assert run(env, client_error) == 1
    assert env.failure_path.read_text() == "ClientError: k must be at most the number of rows"
    assert run(env, crash) == 1
    assert env.failure_path.read_text() == "AlgorithmError: ZeroDivisionError: oops"
    assert run(env, lambda _: None) == 0
