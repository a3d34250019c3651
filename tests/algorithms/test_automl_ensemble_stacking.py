"""The ENSEMBLING training jobs in process: a layer-1 job, a layer-2 stacker over it and the
weighted ensemble over both, with sample weights: the stacker's artifact serves alone, the
metrics are weighted, and the notes the ensemble job is given reach its log."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from sagebox.algorithms.amazon.job import run
from sagebox.algorithms.automl_ensemble.train import MODEL_FILE, train
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.analysis.automl import ensembles

COMMON = {
    "problem_type": "BinaryClassification",
    "objective": "F1",
    "num_classes": "2",
    "folds": "3",
    "sample_weights": "1",
}


def _rows(labels: np.ndarray, weights: np.ndarray, features: np.ndarray) -> str:
    table = np.column_stack([labels, weights, features])
    return "".join(",".join(f"{v:.9g}" for v in row) + "\n" for row in table)


def _job(root: Path, name: str, hyperparameters: dict[str, str], data: dict[str, str]) -> Path:
    """A job folder as the container contract lays it out, with the `models` channel holding
    the jobs already run under `root` (``<job>/output/model.tar.gz``)."""
    base = root / name
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (base / "model").mkdir()
    (base / "output").mkdir()
    channels = {**data}
    (config / "hyperparameters.json").write_text(json.dumps({**COMMON, **hyperparameters}))
    entries = dict.fromkeys([*channels, "models"], {"TrainingInputMode": "File"})
    (config / "inputdataconfig.json").write_text(json.dumps(entries))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
    )
    for channel, text in channels.items():
        folder = base / "input" / "data" / channel
        folder.mkdir(parents=True)
        (folder / f"{channel}.csv").write_text(text)
    models = base / "input" / "data" / "models"
    models.mkdir(parents=True)
    for done in root.glob("*/model"):
        if done.parent != base and any(done.iterdir()):
            archive = models / done.parent.name / "output" / "model.tar.gz"
            archive.parent.mkdir(parents=True)
            with tarfile.open(archive, "w:gz") as tar:
                for item in done.iterdir():
                    tar.add(item, arcname=item.name)
    return base


def _train(base: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = run(TrainingEnvironment.load(base), train)
    captured = capsys.readouterr()
    assert code == 0, captured.err + captured.out
    return captured.out + captured.err


def test_layer_one_layer_two_and_the_ensemble_in_one_artifact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = load_breast_cancer(return_X_y=True)
    x, y = x[:240, :8], y[:240].astype(float)
    weights = np.where(y == 0, 2.0, 1.0)
    data = {
        "train": _rows(y[:180], weights[:180], x[:180]),
        "validation": _rows(y[180:], weights[180:], x[180:]),
    }
    _train(_job(tmp_path, "lin-l1", {"algorithm": "linear-learner"}, data), capsys)
    _train(_job(tmp_path, "lgbm-l1", {"algorithm": "lightgbm"}, data), capsys)
    log = _train(
        _job(
            tmp_path,
            "lin-l2",
            {"algorithm": "linear-learner", "stack_level": "2", "base_models": "lin-l1,lgbm-l1"},
            data,
        ),
        capsys,
    )
    # The folds span the training and the validation rows.
    assert "Stacking over lin-l1, lgbm-l1" in log and "Sample weights: 240 rows" in log
    splits = ensembles.folds(y, "BinaryClassification", 3, 0)
    _, expected_oof = ensembles.fit_bagged(
        "linear-learner", "BinaryClassification", 2, x, y, splits, weights=weights
    )
    saved = tmp_path / "lin-l1" / "model"
    np.testing.assert_allclose(np.load(saved / "oof.npy"), expected_oof)
    np.testing.assert_allclose(np.load(saved / "validation.npy"), expected_oof[180:])
    note = "Layer 2 (stacking) was skipped: 3 s were left (a note for the log)"
    log = _train(
        _job(
            tmp_path,
            "we-l3",
            {
                "algorithm": "weighted-ensemble",
                "base_models": "lin-l1,lgbm-l1,lin-l2",
                "notes": note,
            },
            data,
        ),
        capsys,
    )
    assert note in log
    model = joblib.load(tmp_path / "we-l3" / "model" / MODEL_FILE)
    assert isinstance(model, ensembles.WeightedEnsemble)
    stacker = joblib.load(tmp_path / "lin-l2" / "model" / MODEL_FILE).members[0]
    assert isinstance(stacker, ensembles.StackedModel)
    assert stacker.layer1_names == ["lin-l1", "lgbm-l1"]
    # Served alone, the stacker's artifact carries the layer-1 models it reads.
    alone = stacker.predict(x[180:])
    assert alone.shape == (60, 2)
    served = model.predict(x[180:])
    np.testing.assert_allclose(served.sum(axis=1), 1.0)
    summary = json.loads((tmp_path / "we-l3" / "model" / "summary.json").read_text())
    # The validation metrics score the validation rows' out-of-fold predictions, weighted by
    # the rows' sample weights, with the tuned decision threshold.
    validation = np.load(tmp_path / "we-l3" / "model" / "validation.npy")
    np.testing.assert_allclose(validation, np.load(tmp_path / "we-l3" / "model" / "oof.npy")[180:])
    assert summary["threshold"] == model.threshold is not None
    expected = ensembles.metrics(
        "BinaryClassification", y[180:], validation, weights[180:], model.threshold
    )
    assert summary["validation"]["F1"] == pytest.approx(expected["F1"])
