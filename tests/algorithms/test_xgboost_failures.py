"""Client errors end the job with exit status 1 and a specific ``output/failure``; SIGTERM stops it."""

from __future__ import annotations

import gzip
import signal
import time
import warnings

import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_diabetes

from tests.algorithms.xgboost_jobs import JobFactory, csv_rows


@pytest.fixture(scope="module")
def rows() -> str:
    features, labels = load_diabetes(return_X_y=True)
    return csv_rows(labels[:200], features[:200])


def assert_failed(job_result: tuple[object, str], *fragments: str) -> None:
    result, failure = job_result
    assert result.returncode == 1, result.stderr  # type: ignore[attr-defined]
    for fragment in fragments:
        assert fragment in failure
    assert len(failure) > 0


def run_failing(make_job: JobFactory, hps: dict[str, str], channels: dict, **kwargs: object):
    job = make_job(hps, channels, **kwargs)
    result = job.run()
    assert not job.model_path.exists()
    return result, job.failure()


def test_bad_hyperparameter_value(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(
        make_job, {"num_round": "5", "max_depth": "-1"}, {"train": {"t.csv": rows}}
    )
    assert_failed(
        outcome,
        "ClientError: Hyperparameter 'max_depth': value '-1' is not allowed; "
        "expected an integer >= 0.",
    )


def test_missing_num_round(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(make_job, {"max_depth": "3"}, {"train": {"t.csv": rows}})
    assert_failed(outcome, "Hyperparameter 'num_round' is required")


def test_multiclass_without_num_class(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(
        make_job, {"num_round": "5", "objective": "multi:softmax"}, {"train": {"t.csv": rows}}
    )
    assert_failed(outcome, "'num_class'", "multi:softmax")


def test_missing_train_channel(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(make_job, {"num_round": "5"}, {"validation": {"v.csv": rows}})
    assert_failed(outcome, "channel 'train' is missing")


def test_empty_train_channel(make_job: JobFactory) -> None:
    outcome = run_failing(make_job, {"num_round": "5"}, {"train": {".hidden": "1,2\n"}})
    assert_failed(outcome, "channel 'train' has no data files")


def test_empty_csv_file(make_job: JobFactory) -> None:
    outcome = run_failing(make_job, {"num_round": "5"}, {"train": {"empty.csv": ""}})
    assert_failed(outcome, "channel 'train': empty.csv: the file is empty")


def test_bad_csv_value_names_channel_file_line_and_column(make_job: JobFactory) -> None:
    data = "1,2,3\n0,4,5\n1,abc,6\n"
    outcome = run_failing(make_job, {"num_round": "5"}, {"train": {"part/train.csv": data}})
    assert_failed(
        outcome, "channel 'train': part/train.csv line 3, column 2: 'abc' is not a number"
    )


def test_wrong_column_count_in_gzip_validation(make_job: JobFactory, rows: str) -> None:
    bad = gzip.compress(b"1,2,3\n1,2\n")
    outcome = run_failing(
        make_job, {"num_round": "5"}, {"train": {"t.csv": rows}, "validation": {"v.csv.gz": bad}}
    )
    assert_failed(outcome, "channel 'validation': v.csv.gz line 2: expected 3 columns, found 2")


def test_bad_libsvm_token(make_job: JobFactory) -> None:
    data = "1 1:0.5 2:1.5\n0 1:0.25 oops\n"
    outcome = run_failing(
        make_job, {"num_round": "5"}, {"train": {"d.libsvm": data}}, content_type="text/libsvm"
    )
    assert_failed(outcome, "channel 'train': d.libsvm line 2: 'oops' is not an index:value pair")


def test_early_stopping_without_validation(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(
        make_job, {"num_round": "5", "early_stopping_rounds": "3"}, {"train": {"t.csv": rows}}
    )
    assert_failed(outcome, "early_stopping_rounds=3 needs a 'validation' channel")


def test_unsupported_content_type(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(
        make_job,
        {"num_round": "5"},
        {"train": {"t.parquet": rows}},
        content_type="application/x-parquet",
    )
    assert_failed(outcome, "ContentType 'application/x-parquet' is not supported")


def test_unknown_channel(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(
        make_job, {"num_round": "5"}, {"train": {"t.csv": rows}, "test": {"x": rows}}
    )
    assert_failed(outcome, "channel 'test' is not supported")


def test_xgboost_rejecting_labels_is_a_client_error(make_job: JobFactory) -> None:
    data = "0,1\n2,3\n1,4\n"
    outcome = run_failing(
        make_job, {"num_round": "5", "objective": "binary:logistic"}, {"train": {"t.csv": data}}
    )
    assert_failed(outcome, "ClientError: XGBoost failed: label must be in")


def test_unknown_tuning_metric(make_job: JobFactory, rows: str) -> None:
    outcome = run_failing(
        make_job,
        {"num_round": "5", "_tuning_objective_metric": "validation:nonsense"},
        {"train": {"t.csv": rows}},
    )
    assert_failed(outcome, "_tuning_objective_metric 'validation:nonsense'")


def test_model_file_loads_without_format_hint(make_job: JobFactory, rows: str) -> None:
    job = make_job({"num_round": "3"}, {"train": {"t.csv": rows}})
    assert job.run().returncode == 0
    booster = xgb.Booster()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Unknown file format")
        booster.load_model(str(job.model_path))
    assert booster.num_boosted_rounds() == 3
    assert job.model_path.read_bytes()[:1] == b"{"  # UBJSON object


def test_sigterm_stops_promptly_and_keeps_the_latest_model(make_job: JobFactory) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(4000, 20))
    labels = features @ rng.normal(size=20) + rng.normal(size=4000)
    job = make_job(
        {
            "num_round": "100000",
            "max_depth": "8",
            "eta": "0.01",
            "save_model_on_termination": "true",
        },
        {"train": {"t.csv": csv_rows(labels, features)}},
    )
    process = job.start()
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("[0]\ttrain-rmse:")
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        returncode = process.wait(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode != 0
    assert returncode == 128 + signal.SIGTERM
    assert job.model_path.exists()
    assert not job.failure_path.exists()
