"""The XGBoost algorithm run as a real job process, compared with ``xgboost.train`` in-process."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_diabetes, load_wine
from sklearn.metrics import accuracy_score, f1_score

from sagebox.algorithms.registry import resolve
from sagebox.algorithms.xgboost.params import available_cpus
from tests.algorithms.xgboost_jobs import Job, JobFactory, csv_rows

LINE = re.compile(r"^\[(\d+)\](\t[a-z]+-[a-z0-9_@.-]+:-?[0-9]+\.[0-9]+)+$")


def split(features: np.ndarray, labels: np.ndarray, train_rows: int) -> dict[str, Any]:
    features = features.astype(np.float32)
    labels = labels.astype(np.float32)
    return {
        "X_train": features[:train_rows],
        "y_train": labels[:train_rows],
        "X_valid": features[train_rows:],
        "y_valid": labels[train_rows:],
    }


def reference_train(
    params: dict[str, Any],
    data: dict[str, Any],
    num_round: int,
    callbacks: list[xgb.callback.TrainingCallback] | None = None,
    weights: np.ndarray | None = None,
) -> tuple[xgb.Booster, xgb.DMatrix]:
    nthread = available_cpus()
    dtrain = xgb.DMatrix(data["X_train"], label=data["y_train"], weight=weights, nthread=nthread)
    dvalid = xgb.DMatrix(data["X_valid"], label=data["y_valid"], nthread=nthread)
    booster = xgb.train(
        {**params, "nthread": nthread},
        dtrain,
        num_boost_round=num_round,
        evals=[(dtrain, "train"), (dvalid, "validation")],
        callbacks=callbacks,
        verbose_eval=False,
    )
    return booster, dvalid


def load_saved(job: Job) -> xgb.Booster:
    """The saved model; xgboost warns that a file without extension is read as UBJSON."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Unknown file format")
        return xgb.Booster(model_file=str(job.model_path))


def assert_same_model(job: Job, expected: xgb.Booster, dvalid: xgb.DMatrix) -> xgb.Booster:
    saved = load_saved(job)
    assert saved.get_dump(dump_format="json") == expected.get_dump(dump_format="json")
    assert saved.save_raw("json") == expected.save_raw("json")
    np.testing.assert_array_equal(saved.predict(dvalid), expected.predict(dvalid))
    return saved


def evaluation_lines(stdout: str) -> list[str]:
    lines = [line for line in stdout.splitlines() if line.startswith("[")]
    for line in lines:
        assert LINE.match(line), line
    return lines


def metric_values(lines: list[str], metric_name: str) -> list[float]:
    """Extract a metric the way the platform does: tabs as #011, SageMaker's published regex."""
    spec = resolve(algorithm_name="xgboost")
    assert spec is not None
    regex = next(d["Regex"] for d in spec.metric_definitions if d["Name"] == metric_name)
    values = []
    for line in lines:
        match = re.match(regex, line.replace("\t", "#011"))
        assert match is not None, (metric_name, line)
        values.append(float(match.group(1)))
    return values


@pytest.fixture(scope="module")
def diabetes() -> dict[str, Any]:
    features, labels = load_diabetes(return_X_y=True)
    return split(features, labels, 350)


@pytest.fixture(scope="module")
def breast_cancer() -> dict[str, Any]:
    features, labels = load_breast_cancer(return_X_y=True)
    return split(features, labels, 420)


def test_regression_matches_xgboost_train(make_job: JobFactory, diabetes: dict[str, Any]) -> None:
    hps = {"num_round": "25", "max_depth": "4", "eta": "0.2", "seed": "7", "subsample": "0.8"}
    job = make_job(
        hps,
        {
            "train": {"train.csv": csv_rows(diabetes["y_train"], diabetes["X_train"])},
            "validation": {"validation.csv": csv_rows(diabetes["y_valid"], diabetes["X_valid"])},
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr

    params = {"max_depth": 4, "eta": 0.2, "seed": 7, "subsample": 0.8}
    expected, dvalid = reference_train(params, diabetes, 25)
    assert_same_model(job, expected, dvalid)
    assert sorted(p.name for p in job.model_path.parent.iterdir()) == ["xgboost-model"]
    assert not job.failure_path.exists()

    lines = evaluation_lines(result.stdout)
    assert len(lines) == 25
    assert lines[0].startswith("[0]\ttrain-rmse:")
    assert "\tvalidation-rmse:" in lines[0]
    rmse = metric_values(lines, "validation:rmse")
    reference = expected.eval(dvalid, "validation").split(":")[-1]
    assert rmse[-1] == pytest.approx(float(reference), abs=1e-5)
    assert len(metric_values(lines, "train:rmse")) == 25


def test_binary_with_auc_logloss_and_early_stopping(
    make_job: JobFactory, breast_cancer: dict[str, Any]
) -> None:
    hps = {
        "num_round": "300",
        "objective": '"binary:logistic"',
        "eval_metric": "auc,logloss",
        "early_stopping_rounds": "5",
        "eta": "0.5",
        "max_depth": "3",
    }
    job = make_job(
        hps,
        {
            "train": {"part-0.csv": csv_rows(breast_cancer["y_train"], breast_cancer["X_train"])},
            "validation": {"v.csv": csv_rows(breast_cancer["y_valid"], breast_cancer["X_valid"])},
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr

    params = {"objective": "binary:logistic", "eval_metric": ["auc", "logloss"], "eta": 0.5}
    params["max_depth"] = 3
    stopping = xgb.callback.EarlyStopping(
        rounds=5, data_name="validation", metric_name="logloss", maximize=False, save_best=True
    )
    expected, dvalid = reference_train(params, breast_cancer, 300, callbacks=[stopping])
    saved = assert_same_model(job, expected, dvalid)
    assert saved.num_boosted_rounds() < 300

    lines = evaluation_lines(result.stdout)
    assert len(lines) < 300
    # every round up to 5 past the best, then the best round's line again: the model kept
    assert len(lines) == expected.best_iteration + 1 + 5 + 1
    assert lines[-1] == lines[expected.best_iteration]
    assert "Stopping. Best iteration:\n" + lines[-1] in result.stdout
    assert all("\tvalidation-auc:" in line and "\tvalidation-logloss:" in line for line in lines)
    auc = metric_values(lines, "validation:auc")
    assert 0.9 < auc[-1] <= 1.0
    # the final value each regex finds is the saved model's, not the last round's
    logloss = metric_values(lines, "validation:logloss")
    assert logloss[-1] == min(logloss) < logloss[-2]
    kept = float(saved.eval(dvalid, "validation").split("validation-logloss:")[1])
    assert logloss[-1] == pytest.approx(kept, abs=1e-5)


def test_multiclass_softprob(make_job: JobFactory) -> None:
    features, labels = load_wine(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(labels))
    data = split(features[order], labels[order], 130)
    hps = {
        "num_round": "15",
        "objective": "multi:softprob",
        "num_class": "3",
        "eval_metric": "mlogloss,merror",
    }
    job = make_job(
        hps,
        {
            "train": {"train.csv": csv_rows(data["y_train"], data["X_train"])},
            "validation": {"valid.csv": csv_rows(data["y_valid"], data["X_valid"])},
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    params = {"objective": "multi:softprob", "num_class": 3, "eval_metric": ["mlogloss", "merror"]}
    expected, dvalid = reference_train(params, data, 15)
    saved = assert_same_model(job, expected, dvalid)
    assert saved.predict(dvalid).shape == (len(data["y_valid"]), 3)
    lines = evaluation_lines(result.stdout)
    assert len(metric_values(lines, "validation:merror")) == 15
    assert len(metric_values(lines, "train:mlogloss")) == 15


def test_libsvm_input_is_the_default_content_type(
    make_job: JobFactory, breast_cancer: dict[str, Any], tmp_path: Any
) -> None:
    files = {}
    for channel, X, y in (
        ("train", breast_cancer["X_train"], breast_cancer["y_train"]),
        ("validation", breast_cancer["X_valid"], breast_cancer["y_valid"]),
    ):
        target = tmp_path / f"{channel}.libsvm"
        dump_svmlight_file(X, y, str(target), zero_based=False)
        files[channel] = {f"{channel}.libsvm": target.read_text()}
    hps = {"num_round": "10", "objective": "binary:logistic", "seed": "3"}
    job = make_job(hps, files, content_type=None)
    result = job.run()
    assert result.returncode == 0, result.stderr

    from sklearn.datasets import load_svmlight_file

    nthread = available_cpus()
    X_train, y_train = load_svmlight_file(str(tmp_path / "train.libsvm"), zero_based=True)
    X_valid, y_valid = load_svmlight_file(
        str(tmp_path / "validation.libsvm"), zero_based=True, n_features=X_train.shape[1]
    )
    dtrain = xgb.DMatrix(
        X_train.astype(np.float32), label=y_train.astype(np.float32), nthread=nthread
    )
    dvalid = xgb.DMatrix(
        X_valid.astype(np.float32), label=y_valid.astype(np.float32), nthread=nthread
    )
    expected = xgb.train(
        {"objective": "binary:logistic", "seed": 3, "nthread": nthread},
        dtrain,
        num_boost_round=10,
        evals=[(dtrain, "train"), (dvalid, "validation")],
        verbose_eval=False,
    )
    saved = assert_same_model(job, expected, dvalid)
    assert saved.num_features() == breast_cancer["X_train"].shape[1] + 1
    assert len(evaluation_lines(result.stdout)) == 10


def test_csv_weights(make_job: JobFactory, diabetes: dict[str, Any]) -> None:
    weights = (
        np.random.default_rng(1).uniform(0.5, 2.0, len(diabetes["y_train"])).astype(np.float32)
    )
    job = make_job(
        {"num_round": "12", "csv_weights": "1", "max_depth": "3"},
        {
            "train": {"train.csv": csv_rows(diabetes["y_train"], diabetes["X_train"], weights)},
            "validation": {"validation.csv": csv_rows(diabetes["y_valid"], diabetes["X_valid"])},
        },
    )
    # validation rows carry a weight column too when csv_weights=1
    job.write_channel_file(
        "validation",
        "validation.csv",
        csv_rows(diabetes["y_valid"], diabetes["X_valid"], np.ones(len(diabetes["y_valid"]))),
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    expected, dvalid = reference_train({"max_depth": 3}, diabetes, 12, weights=weights)
    assert_same_model(job, expected, dvalid)


def test_container_metrics_are_printed_and_match_sklearn(
    make_job: JobFactory, breast_cancer: dict[str, Any]
) -> None:
    hps = {
        "num_round": "8",
        "objective": "binary:logistic",
        "eval_metric": "accuracy,f1",
        "_tuning_objective_metric": "validation:accuracy",
    }
    job = make_job(
        hps,
        {
            "train": {"train.csv": csv_rows(breast_cancer["y_train"], breast_cancer["X_train"])},
            "validation": {
                "valid.csv": csv_rows(breast_cancer["y_valid"], breast_cancer["X_valid"])
            },
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    lines = evaluation_lines(result.stdout)
    assert len(lines) == 8
    accuracy = metric_values(lines, "validation:accuracy")
    f1 = metric_values(lines, "validation:f1")

    expected, dvalid = reference_train({"objective": "binary:logistic"}, breast_cancer, 8)
    assert_same_model(job, expected, dvalid)
    predicted = (expected.predict(dvalid) > 0.5).astype(int)
    truth = breast_cancer["y_valid"].astype(int)
    assert accuracy[-1] == pytest.approx(accuracy_score(truth, predicted), abs=1e-5)
    assert f1[-1] == pytest.approx(f1_score(truth, predicted, average="macro"), abs=1e-5)
    # xgboost's default metric for the objective is still reported
    assert "\tvalidation-logloss:" in lines[0]


def test_training_without_validation_channel(
    make_job: JobFactory, diabetes: dict[str, Any]
) -> None:
    job = make_job(
        {"num_round": "5", "objective": "reg:squarederror"},
        {"train": {"nested/deeper/train.csv": csv_rows(diabetes["y_train"], diabetes["X_train"])}},
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    lines = evaluation_lines(result.stdout)
    assert lines[0].startswith("[0]\ttrain-rmse:") and "validation" not in lines[0]
    assert load_saved(job).num_boosted_rounds() == 5
