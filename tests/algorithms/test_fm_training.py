"""The Factorization Machines job: hyperparameters, channels, metrics, failures and the handler."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import scipy.sparse as sp

from sagebox.algorithms.amazon.job import run
from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.factorization_machines.model import FactorizationMachine
from sagebox.algorithms.factorization_machines.train import train
from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.registry import resolve
from sagebox.formats import recordio
from sagebox.serving.errors import BadRequest
from sagebox.serving.handlers.factorization_machines import load
from tests.algorithms.xgboost_jobs import Job, JobFactory, csv_text

SPEC = resolve(algorithm_name="factorization-machines")
RECORDIO = "application/x-recordio-protobuf"
FAST = {
    "feature_dim": "30",
    "num_factors": "4",
    "epochs": "5",
    "mini_batch_size": "64",
    "linear_lr": "0.02",
    "factors_lr": "0.02",
    "factors_init_sigma": "0.1",
}


def sparse_data(seed: int, rows: int, binary: bool) -> tuple[sp.csr_matrix, np.ndarray]:
    """Two one-hot fields (10 + 20 columns) with an interaction between them."""
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, 10, rows), rng.integers(0, 20, rows)
    matrix = sp.csr_matrix(
        (
            np.ones(2 * rows, dtype=np.float32),
            (np.repeat(np.arange(rows), 2), np.column_stack([first, 10 + second]).ravel()),
        ),
        shape=(rows, 30),
    )
    signal = np.where((first % 2) == (second % 2), 1.0, -1.0) + 0.1 * rng.normal(size=rows)
    labels = (signal > 0).astype(np.float32) if binary else signal.astype(np.float32)
    return matrix, labels


def run_job(job: Job) -> int:
    return run(TrainingEnvironment.load(job.base), train)


def metric_lines(output: str) -> list[tuple[str | None, str, str, str, float]]:
    pattern = (
        r"#quality_metric: host=algo-1, (?:epoch=(\d+), )?(train|test) (\S+) <(loss|score)>=(\S+)$"
    )
    return [
        (m.group(1), m.group(2), m.group(3), m.group(4), float(m.group(5)))
        for m in map(lambda line: re.match(pattern, line), output.splitlines())
        if m
    ]


def test_the_spec_is_registered_with_sagemaker_names() -> None:
    assert SPEC is not None and SPEC.name == "factorization-machines"
    assert resolve("174872318107.dkr.ecr.us-west-2.amazonaws.com/factorization-machines:1") is SPEC
    names = {d["Name"] for d in SPEC.metric_definitions}
    assert names >= {
        "test:rmse",
        "test:binary_classification_accuracy",
        "test:binary_classification_cross_entropy",
        "test:binary_f_beta",
        "train:rmse",
    }
    values = SPEC.validate_hyperparameters(
        {"feature_dim": "5", "num_factors": "2", "predictor_type": "regressor"}
    )
    assert values["epochs"] == 1 and values["mini_batch_size"] == 1000
    assert (values["bias_lr"], values["linear_lr"], values["factors_lr"]) == (0.1, 0.001, 0.0001)
    assert (values["bias_wd"], values["linear_wd"], values["factors_wd"]) == (0.01, 0.001, 0.00001)
    assert (
        values["bias_init_sigma"],
        values["linear_init_sigma"],
        values["factors_init_sigma"],
    ) == (0.01, 0.01, 0.001)
    assert values["bias_init_method"] == "normal" and values["eps"] is None


REQUIRED = {"feature_dim": "5", "num_factors": "2", "predictor_type": "regressor"}


@pytest.mark.parametrize(
    ("given", "name", "phrase"),
    [
        ({"feature_dim": "5", "num_factors": "2"}, "predictor_type", "is required"),
        (
            {**REQUIRED, "predictor_type": "multiclass_classifier"},
            "predictor_type",
            "'binary_classifier', 'regressor'",
        ),
        ({**REQUIRED, "num_factors": "0"}, "num_factors", "an integer >= 1"),
        ({**REQUIRED, "epochs": "0"}, "epochs", "an integer >= 1"),
        ({**REQUIRED, "factors_lr": "-1"}, "factors_lr", "a number >= 0"),
        (
            {**REQUIRED, "bias_init_method": "xavier"},
            "bias_init_method",
            "'normal', 'uniform', 'constant'",
        ),
        (
            {**REQUIRED, "linear_init_method": "uniform"},
            "linear_init_scale",
            "required when linear_init_method is 'uniform'",
        ),
        (
            {**REQUIRED, "factors_init_method": "constant"},
            "factors_init_value",
            "required when factors_init_method is 'constant'",
        ),
        ({**REQUIRED, "eps": "0"}, "eps", "a number > 0"),
        ({**REQUIRED, "learning_rate": "0.1"}, "learning_rate", "not a hyperparameter"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(given: dict, name: str, phrase: str) -> None:
    assert SPEC is not None
    with pytest.raises(HyperparameterError) as caught:
        SPEC.validate_hyperparameters(given)
    assert caught.value.name == name
    assert phrase in str(caught.value)


def test_recordio_regressor_reports_train_and_test_metrics(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, labels = sparse_data(0, 1200, binary=False)
    job = make_job(
        {**FAST, "predictor_type": "regressor"},
        {
            "train": {
                "a.rec": recordio.write_sparse(rows[:500], labels[:500]),
                "b.rec": recordio.write_sparse(rows[500:1000], labels[500:1000]),
            },
            "test": {"test.rec": recordio.write_sparse(rows[1000:], labels[1000:])},
        },
        content_type=RECORDIO,
    )
    assert run_job(job) == 0
    output = capsys.readouterr().out
    lines = metric_lines(output)
    train_rmse = [value for epoch, channel, name, kind, value in lines if channel == "train"]
    assert [line[0] for line in lines if line[1] == "train"] == ["0", "1", "2", "3", "4"]
    assert all(line[2] == "rmse" and line[3] == "loss" for line in lines)
    test_rmse = [line[4] for line in lines if line[1] == "test"]
    assert len(test_rmse) == 1 and test_rmse[0] < 0.3 and train_rmse[-1] < train_rmse[0]
    assert "#progress_metric: host=algo-1, completed 100.0 % of epochs" in output
    assert SPEC is not None
    regex = next(d["Regex"] for d in SPEC.metric_definitions if d["Name"] == "test:rmse")
    assert [float(v) for v in re.findall(regex, output)] == test_rmse
    arrays, settings = load_model(job.base / "model", "factorization_machines")
    assert settings == {"feature_dim": 30, "num_factors": 4, "predictor_type": "regressor"}
    model = FactorizationMachine.from_arrays(arrays, "regressor")
    assert np.sqrt(np.mean((model.raw(rows[1000:]) - labels[1000:]) ** 2)) == pytest.approx(
        test_rmse[0]
    )


def test_csv_binary_classifier_reports_the_binary_metrics(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, labels = sparse_data(1, 800, binary=True)
    dense = rows.toarray()
    job = make_job(
        {**FAST, "predictor_type": "binary_classifier", "epochs": "8"},
        {
            "train": {"train.csv": csv_text(np.column_stack([labels[:600], dense[:600]]))},
            "test": {"test.csv": csv_text(np.column_stack([labels[600:], dense[600:]]))},
        },
    )
    assert run_job(job) == 0
    test = {
        name: value
        for _, channel, name, _, value in metric_lines(capsys.readouterr().out)
        if channel == "test"
    }
    assert set(test) == {
        "binary_classification_accuracy",
        "binary_classification_cross_entropy",
        "binary_f_beta",
    }
    assert test["binary_classification_accuracy"] > 0.9 and test["binary_f_beta"] > 0.9


@pytest.mark.parametrize(
    ("channels", "content_type", "message"),
    [
        (
            {"train": {"t.csv": "1,0,1\n0.5,1,0\n"}},
            "text/csv",
            "channel 'train': row 2 has label 0.5",
        ),
        ({"train": {"t.csv": "1,0,1\n1,1,x\n"}}, "text/csv", "t.csv line 2"),
        ({"train": {"t.csv": "1,0,1,1\n"}}, "text/csv", "3 features, but 2 are expected"),
        (
            {"train": {"t.csv": "1,0,1\n"}, "test": {"u.csv": "1,0,inf\n"}},
            "text/csv",
            "channel 'test': row 1 has a feature that is not a finite number",
        ),
        ({"train": {"t.csv": "0,1\n"}}, "text/csv;label_size=0", "the rows have no labels"),
        (
            {
                "train": {
                    "t.rec": recordio.write_dense(
                        np.ones((2, 2), np.float32), np.ones(2, np.float32)
                    )
                    + b"junkjunk"
                }
            },
            RECORDIO,
            "t.rec",
        ),
    ],
)
def test_bad_data_fails_with_a_reason_naming_where(
    make_job: JobFactory, channels: dict, content_type: str, message: str
) -> None:
    job = make_job(
        {"feature_dim": "2", "num_factors": "2", "predictor_type": "binary_classifier"},
        channels,
        content_type=content_type,
    )
    assert run_job(job) == 1
    assert job.failure().startswith("ClientError: ")
    assert message in job.failure(), job.failure()


def test_the_handler_answers_in_sagemakers_fm_shapes(make_job: JobFactory) -> None:
    rows, labels = sparse_data(2, 600, binary=True)
    job = make_job(
        {**FAST, "predictor_type": "binary_classifier"},
        {"train": {"t.rec": recordio.write_sparse(rows, labels)}},
        content_type=RECORDIO,
    )
    assert run_job(job) == 0
    handler = load(job.base / "model")
    model = FactorizationMachine.from_arrays(
        load_model(job.base / "model", "factorization_machines")[0], "binary_classifier"
    )
    expected = model.predict(rows[:4])
    body, kind = handler.predict(recordio.write_sparse(rows[:4]), RECORDIO, "application/json")
    assert kind == "application/json"
    answer = json.loads(body)["predictions"]
    assert answer == [
        {"score": s, "predicted_label": p}
        for s, p in zip(
            expected["score"].tolist(), expected["predicted_label"].tolist(), strict=True
        )
    ]
    sparse_json = {
        "instances": [
            {
                "data": {
                    "features": {
                        "keys": rows[i].indices.tolist(),
                        "values": rows[i].data.tolist(),
                        "shape": [30],
                    }
                }
            }
            for i in range(4)
        ]
    }
    body, _ = handler.predict(
        json.dumps(sparse_json).encode(), "application/json", "application/jsonlines"
    )
    assert [json.loads(line) for line in body.decode().splitlines()] == answer
    body, _ = handler.predict(csv_text(rows[:4].toarray()).encode(), "text/csv", "text/csv")
    assert body.decode().splitlines() == [
        f"{s!r},{p}"
        for s, p in zip(
            expected["score"].tolist(), expected["predicted_label"].tolist(), strict=True
        )
    ]
    body, _ = handler.predict(recordio.write_dense(rows[:4].toarray()), RECORDIO, RECORDIO)
    records = list(recordio.read_records(body))
    np.testing.assert_allclose(
        [r.label["score"].values[0] for r in records], expected["score"].astype(np.float32)
    )
    assert [r.label["predicted_label"].values[0] for r in records] == expected[
        "predicted_label"
    ].tolist()
    with pytest.raises(BadRequest):
        handler.predict(b"1,2\n", "text/csv", "application/json")
