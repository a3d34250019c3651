"""One ENSEMBLING training job: a bagged base model, or the weighted ensemble over base models.

Channels: ``train`` and ``validation`` hold the preprocessed splits of the AutoML job (CSV,
no header, the label first: the class index for classification). A base-model job
(``algorithm`` = lightgbm, catboost, ...) fits one model per fold of ``train`` and saves, in
its model folder, the bagged model (``ensemble.joblib``, an ensemble of one), its
out-of-fold predictions on ``train`` (``oof.npy``) and its predictions on ``validation``
(``validation.npy``). The ensemble job (``algorithm`` = weighted-ensemble) reads the base
jobs named in ``base_models`` from the ``models`` channel (``<job>/output/model.tar.gz``
each), selects weights on their out-of-fold predictions and saves the weighted ensemble.

Both report every Autopilot metric of the problem type on ``validation`` (and on the
out-of-fold predictions, ``train_oof``) as quality-metric lines.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.automl_ensemble.spec import ENSEMBLE, HYPERPARAMETERS, LOSSES
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.analysis.automl import ensembles
from sagebox.analysis.automl.problems import OBJECTIVES, REGRESSION

MODEL_FILE = "ensemble.joblib"
OOF_FILE, VALIDATION_FILE, SUMMARY_FILE = "oof.npy", "validation.npy", "summary.json"


def read_channel(env: TrainingEnvironment, channel: str) -> tuple[np.ndarray, np.ndarray]:
    files = [p for p in env.channel_files(channel) if p.stat().st_size > 0]
    if not files:
        raise TrainingError(f"the '{channel}' channel holds no data")
    try:
        frames = [pd.read_csv(p, header=None, dtype=np.float64) for p in files]
    except ValueError as exc:
        raise TrainingError(f"the '{channel}' channel is not numeric CSV: {exc}") from None
    table = pd.concat(frames, ignore_index=True).to_numpy()
    return table[:, 1:], table[:, 0]


def _report(reporter: MetricReporter, channel: str, values: dict[str, float]) -> None:
    for name, value in sorted(values.items()):
        reporter.quality(channel, name, value, kind="loss" if name in LOSSES else "score")


def _save(
    env: TrainingEnvironment, model: ensembles.WeightedEnsemble, **arrays: np.ndarray
) -> None:
    env.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, env.model_dir / MODEL_FILE)
    for name, values in arrays.items():
        np.save(env.model_dir / name, values)


def train(env: TrainingEnvironment) -> None:
    started = time.time()
    settings = HYPERPARAMETERS.validate(env.hyperparameters)
    problem_type, objective = settings["problem_type"], settings["objective"]
    if objective not in OBJECTIVES[problem_type]:
        raise TrainingError(f"objective {objective} does not apply to {problem_type}")
    classes = 0 if problem_type == REGRESSION else int(settings["num_classes"])
    if problem_type != REGRESSION and classes < 2:
        raise TrainingError("num_classes (at least 2) is required for classification")
    limit = settings.get("time_limit")
    deadline = started + float(limit) if limit else None
    features, labels = read_channel(env, "train")
    valid_features, valid_labels = read_channel(env, "validation")
    reporter = MetricReporter(env.resource_config.current_host)
    algorithm = settings["algorithm"]
    if algorithm == ENSEMBLE:
        model, oof, predictions = _ensemble(env, settings, labels, problem_type, objective)
    else:
        splits = ensembles.folds(labels, problem_type, settings["folds"], settings["seed"])
        log(
            f"Fitting {algorithm} on {len(labels)} rows, {features.shape[1]} features, {len(splits)} folds"
        )
        try:
            bag, oof = ensembles.fit_bagged(
                algorithm,
                problem_type,
                classes,
                features,
                labels,
                splits,
                seed=settings["seed"],
                deadline=deadline,
                log=log,
            )
        except ensembles.TimeLimitReached as exc:
            raise TrainingError(str(exc)) from None
        model = ensembles.WeightedEnsemble(problem_type, classes, [bag], [1.0])
        predictions = bag.predict(valid_features)
    _report(reporter, "train_oof", ensembles.metrics(problem_type, labels, oof))
    scores = ensembles.metrics(problem_type, valid_labels, predictions)
    _report(reporter, "validation", scores)
    _save(env, model, **{OOF_FILE: oof, VALIDATION_FILE: predictions})
    summary = {
        "algorithm": algorithm,
        "members": model.names,
        "weights": model.weights,
        "validation": scores,
        "seconds": round(time.time() - started, 3),
    }
    (env.model_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    log(f"Validation {objective}: {scores[objective]!r} ({summary['seconds']} s)")


def _ensemble(
    env: TrainingEnvironment,
    settings: dict[str, object],
    labels: np.ndarray,
    problem_type: str,
    objective: str,
) -> tuple[ensembles.WeightedEnsemble, np.ndarray, np.ndarray]:
    names = [n for n in str(settings["base_models"]).split(",") if n.strip()]
    if not names:
        raise TrainingError("base_models names no base model training job")
    members, oof, predictions, found = [], [], [], []
    folder = env.channel_dir("models")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            archive = folder / name.strip() / "output" / "model.tar.gz"
            if not archive.is_file():
                log(f"Base model {name} has no model artifact; left out")
                continue
            into = Path(scratch) / name.strip()
            with tarfile.open(archive) as tar:
                tar.extractall(into, filter="data")
            base = joblib.load(into / MODEL_FILE)
            found.append(name.strip())
            members.append(base.members[0])
            oof.append(np.load(into / OOF_FILE))
            predictions.append(np.load(into / VALIDATION_FILE))
    if not members:
        raise TrainingError(f"none of the base models {', '.join(names)} has a model artifact")

    def score(truth: np.ndarray, candidate: np.ndarray) -> float:
        return ensembles.objective_score(problem_type, objective, truth, candidate)

    weights = ensembles.select_weights(oof, labels, score, int(settings["selection_rounds"]))
    log(
        "Ensemble weights: "
        + ", ".join(f"{n}={w:.3f}" for n, w in zip(found, weights, strict=True))
    )
    kept = [i for i, w in enumerate(weights) if w > 0]
    model = ensembles.WeightedEnsemble(
        problem_type,
        members[0].classes,
        [members[i] for i in kept],
        [float(weights[i]) for i in kept],
        [found[i] for i in kept],
    )
    return model, ensembles.combine(oof, weights), ensembles.combine(predictions, weights)
