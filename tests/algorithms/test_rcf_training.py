"""The Random Cut Forest job: hyperparameters, channels, metrics, failures and the saved model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from sagebox.algorithms.amazon.job import run
from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.random_cut_forest.forest import RandomCutForest
from sagebox.algorithms.random_cut_forest.scoring import ForestScorer
from sagebox.algorithms.random_cut_forest.train import train
from sagebox.algorithms.registry import resolve
from sagebox.formats import recordio
from sagebox.serving.errors import BadRequest
from sagebox.serving.handlers.random_cut_forest import load
from tests.algorithms.xgboost_jobs import Job, JobFactory, csv_text

SPEC = resolve(algorithm_name="randomcutforest")
HYPERPARAMETERS = {"feature_dim": "4", "num_trees": "50", "num_samples_per_tree": "64"}


def data(seed: int = 0, rows: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal training rows, and test rows with labels (1 = an obvious anomaly)."""
    rng = np.random.default_rng(seed)
    train_rows = rng.normal(size=(rows, 4)).astype(np.float32)
    normal = rng.normal(size=(60, 4))
    anomalies = rng.normal(size=(6, 4)) + 12
    test_rows = np.vstack([normal, anomalies]).astype(np.float32)
    labels = np.r_[np.zeros(60), np.ones(6)].astype(np.float32)
    return train_rows, test_rows, labels


def run_job(job: Job) -> int:
    return run(TrainingEnvironment.load(job.base), train)


def quality_lines(output: str) -> dict[str, float]:
    found = {}
    for line in output.splitlines():
        match = re.match(r"#quality_metric: host=algo-1, test (\S+) <score>=(\S+)$", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def test_the_spec_is_registered_with_sagemaker_names() -> None:
    assert SPEC is not None and SPEC.name == "randomcutforest"
    assert resolve("382416733822.dkr.ecr.us-east-1.amazonaws.com/randomcutforest:1") is SPEC
    assert {d["Name"] for d in SPEC.metric_definitions} >= {"test:f1", "test:accuracy"}
    values = SPEC.validate_hyperparameters({"feature_dim": "3"})
    assert values["num_trees"] == 100 and values["num_samples_per_tree"] == 256
    assert values["eval_metrics"] == ("accuracy", "precision_recall_fscore")
    assert SPEC.validate_hyperparameters({"feature_dim": "3", "eval_metrics": '["accuracy"]'})[
        "eval_metrics"
    ] == ("accuracy",)


@pytest.mark.parametrize(
    ("given", "name", "allowed"),
    [
        ({}, "feature_dim", "an integer in [1, 10000]"),
        ({"feature_dim": "0"}, "feature_dim", "an integer in [1, 10000]"),
        ({"feature_dim": "3", "num_trees": "49"}, "num_trees", "an integer in [50, 1000]"),
        ({"feature_dim": "3", "num_samples_per_tree": "2049"}, "num_samples_per_tree", "[1, 2048]"),
        ({"feature_dim": "3", "eval_metrics": "accuracy,auc"}, "eval_metrics", "'accuracy'"),
        ({"feature_dim": "3", "num_tree": "60"}, "num_tree", "num_samples_per_tree"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(given: dict, name: str, allowed: str) -> None:
    assert SPEC is not None
    with pytest.raises(HyperparameterError) as caught:
        SPEC.validate_hyperparameters(given)
    assert caught.value.name == name
    assert allowed in str(caught.value)


def test_csv_training_reports_test_metrics_and_saves_the_forest(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    train_rows, test_rows, labels = data()
    job = make_job(
        HYPERPARAMETERS,
        {
            "train": {"train.csv": csv_text(train_rows)},
            "test": {"test.csv": csv_text(np.column_stack([labels, test_rows]))},
        },
    )
    assert run_job(job) == 0, job.failure_path.read_text() if job.failure_path.exists() else ""
    output = capsys.readouterr().out
    metrics = quality_lines(output)
    assert set(metrics) == {"accuracy", "precision", "recall", "f1"}
    assert metrics["f1"] == 1.0 and metrics["accuracy"] == 1.0
    assert SPEC is not None
    for definition in SPEC.metric_definitions:  # the spec's regexes read the lines back
        found = re.findall(definition["Regex"], output)
        assert [float(value) for value in found] == [metrics[definition["Name"][5:]]]
    arrays, settings = load_model(job.base / "model", "random_cut_forest")
    forest = RandomCutForest.from_arrays(arrays)
    assert forest.num_trees == 50 and forest.num_features == 4
    scores = ForestScorer(forest).score(train_rows)
    assert settings["score_mean"] == pytest.approx(scores.mean())
    assert settings["score_threshold"] == pytest.approx(scores.mean() + 3 * scores.std())
    assert settings["training_rows"] == 400


def test_recordio_training_gives_the_same_forest_as_csv(make_job: JobFactory, tmp_path) -> None:
    train_rows, _, _ = data(1, rows=150)
    csv_job = make_job(HYPERPARAMETERS, {"train": {"part-0": csv_text(train_rows)}})
    assert run_job(csv_job) == 0
    recordio_base = tmp_path / "recordio"
    recordio_base.mkdir()
    sparse_rows = sp.csr_matrix(train_rows)
    other = Job(recordio_base / "job")
    config = other.base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(HYPERPARAMETERS))
    (config / "inputdataconfig.json").write_text(json.dumps({"train": {}}))  # default: RecordIO
    other.write_channel_file("train", "a.rec", recordio.write_sparse(sparse_rows[:70]))
    other.write_channel_file("train", "b.rec", recordio.write_dense(train_rows[70:]))
    assert run_job(other) == 0
    first, _ = load_model(csv_job.base / "model", "random_cut_forest")
    second, _ = load_model(other.base / "model", "random_cut_forest")
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_eval_metrics_choose_the_reported_metrics(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    train_rows, test_rows, labels = data()
    job = make_job(
        {**HYPERPARAMETERS, "eval_metrics": "accuracy"},
        {
            "train": {"train.csv": csv_text(train_rows)},
            "test": {"test.csv": csv_text(np.column_stack([labels, test_rows]))},
        },
    )
    assert run_job(job) == 0
    assert set(quality_lines(capsys.readouterr().out)) == {"accuracy"}


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ({"train": {"t.csv": "1,2,3,4\n1,2,x,4\n"}}, "t.csv line 2"),
        ({"train": {"t.csv": "1,2,3,4\n1,2,3\n"}}, "t.csv line 2"),
        ({"train": {"t.csv": "1,2,3\n4,5,6\n"}}, "3 features, but 4 are expected"),
        ({"train": {"t.csv": "1,2,3,4\n1,nan,3,4\n"}}, "row 2, feature 2 is not a finite number"),
        (
            {"train": {"t.csv": "1,2,3,4\n"}, "test": {"u.csv": "0,1,2,3,4\n2,1,2,3,4\n"}},
            "channel 'test': row 2 has label 2.0",
        ),
        ({"train": {"t.csv": "1,2,3,4\n"}, "validation": {"v.csv": "1\n"}}, "'validation'"),
    ],
)
def test_bad_data_fails_with_a_reason_naming_where(
    make_job: JobFactory, channels: dict, message: str
) -> None:
    job = make_job(HYPERPARAMETERS, channels)
    assert run_job(job) == 1
    failure = job.failure()
    assert failure.startswith("ClientError: ")
    assert message in failure, failure


def test_bad_recordio_names_the_file_and_record(make_job: JobFactory) -> None:
    good = recordio.write_dense(np.ones((3, 4), dtype=np.float32))
    job = make_job(HYPERPARAMETERS, {"train": {"d.rec": good + b"\x00garbage!"}}, content_type=None)
    assert run_job(job) == 1
    assert "d.rec" in job.failure() and "record 4" in job.failure(), job.failure()


def test_the_job_runs_as_a_module(make_job: JobFactory) -> None:
    train_rows, _, _ = data(2, rows=100)
    job = make_job(HYPERPARAMETERS, {"train": {"train.csv": csv_text(train_rows)}})
    done = subprocess.run(
        [sys.executable, "-m", "sagebox.algorithms.random_cut_forest"],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(job.base)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (job.base / "model" / "random_cut_forest.npz").is_file()


def test_the_handler_answers_in_sagemakers_rcf_shapes(make_job: JobFactory) -> None:
    train_rows, test_rows, _ = data()
    job = make_job(HYPERPARAMETERS, {"train": {"train.csv": csv_text(train_rows)}})
    assert run_job(job) == 0
    handler = load(job.base / "model")
    expected = ForestScorer(
        RandomCutForest.from_arrays(load_model(job.base / "model", "random_cut_forest")[0])
    ).score(test_rows[:3])
    body, kind = handler.predict(csv_text(test_rows[:3]).encode(), "text/csv", "application/json")
    assert kind == "application/json"
    assert json.loads(body) == {"scores": [{"score": value} for value in expected.tolist()]}
    body, _ = handler.predict(csv_text(test_rows[:3]).encode(), "text/csv", "application/jsonlines")
    assert [json.loads(line)["score"] for line in body.decode().splitlines()] == expected.tolist()
    body, _ = handler.predict(
        recordio.write_dense(test_rows[:3]),
        "application/x-recordio-protobuf",
        "application/x-recordio-protobuf",
    )
    values = [record.label["score"].values[0] for record in recordio.read_records(body)]
    np.testing.assert_allclose(values, expected.astype(np.float32))
    body, _ = handler.predict(csv_text(test_rows[:3]).encode(), "text/csv", "text/csv")
    np.testing.assert_allclose([float(v) for v in body.decode().split()], expected)
    with pytest.raises(BadRequest, match="4"):
        handler.predict(b"1,2,3\n", "text/csv", "application/json")
