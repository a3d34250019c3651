"""One ENSEMBLING training job: a bagged base model, or the weighted ensemble over base models.

Channels: ``train`` and ``validation`` hold the preprocessed splits of the AutoML job (CSV,
no header, the label first: the class index for classification). Every job's folds span
both channels' rows (``train`` then ``validation``): the models learn from all of them, and a
validation row's prediction is its out-of-fold one. A base-model job (``algorithm`` =
lightgbm, catboost, ...) fits one model per fold and saves, in its model folder, the bagged
model (``ensemble.joblib``, an ensemble of one), its out-of-fold predictions on every row
(``oof.npy``) and those of the validation rows (``validation.npy``), which its validation
metrics and the candidate's model insights score. A stacker job (a base model with ``stack_level`` 2) reads the layer-1
jobs named in ``base_models`` from the ``models`` channel (``<job>/output/model.tar.gz``
each) and fits the same folds on the features plus their out-of-fold predictions; its
model carries those layer-1 models, so it serves alone. The ensemble job (``algorithm`` =
weighted-ensemble) reads the jobs named in ``base_models`` (layer 1 and layer 2), selects
weights on their out-of-fold predictions and saves the weighted ensemble (each layer-1
model once, however many stackers read it).

With ``sample_weights`` 1 the channels hold the row's sample weight after the label;
every fit and every metric is weighted by it.

Binary jobs whose objective is F1 or BalancedAccuracy tune the model's decision threshold on
its out-of-fold predictions (`ensembles.tune_threshold`); the saved model carries it, its
metrics are computed with it, and its model server decides labels with it.

Both report every Autopilot metric of the problem type on ``validation`` (the validation
rows' out-of-fold predictions) and on every row's (``train_oof``) as quality-metric lines.
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
from sagebox.analysis.automl.problems import BINARY, OBJECTIVES, REGRESSION

MODEL_FILE = "ensemble.joblib"
OOF_FILE, VALIDATION_FILE, SUMMARY_FILE = "oof.npy", "validation.npy", "summary.json"


def read_channel(
    env: TrainingEnvironment, channel: str, weighted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The channel's features, labels and (`weighted`: the second column) sample weights."""
    files = [p for p in env.channel_files(channel) if p.stat().st_size > 0]
    if not files:
        raise TrainingError(f"the '{channel}' channel holds no data")
    try:
        frames = [pd.read_csv(p, header=None, dtype=np.float64) for p in files]
    except ValueError as exc:
        raise TrainingError(f"the '{channel}' channel is not numeric CSV: {exc}") from None
    table = pd.concat(frames, ignore_index=True).to_numpy()
    if weighted:
        return table[:, 2:], table[:, 0], table[:, 1]
    return table[:, 1:], table[:, 0], None


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
    weighted = bool(settings["sample_weights"])
    features, labels, weights = read_channel(env, "train", weighted)
    valid_features, valid_labels, valid_weights = read_channel(env, "validation", weighted)
    # The folds span the training and the validation rows, as AutoGluon's bagged models use
    # all the rows they are given: every model learns from both, and each validation row is
    # scored by its out-of-fold prediction, from the fold models that never saw it.
    held_out = np.arange(len(labels), len(labels) + len(valid_labels))
    features = np.vstack([features, valid_features])
    labels = np.concatenate([labels, valid_labels])
    if weights is not None and valid_weights is not None:
        weights = np.concatenate([weights, valid_weights])
    if weights is not None:
        log(f"Sample weights: {len(weights)} rows, total weight {float(weights.sum()):.6g}")
    for note in str(settings["notes"]).split(";"):
        if note.strip():
            log(note.strip())
    reporter = MetricReporter(env.resource_config.current_host)
    algorithm = settings["algorithm"]
    if algorithm == ENSEMBLE:
        model, oof = _ensemble(env, settings, labels, weights, problem_type, objective)
    else:
        splits = ensembles.folds(labels, problem_type, settings["folds"], settings["seed"])
        level = int(settings["stack_level"])
        log(
            f"Fitting {algorithm} (layer {level}) on {len(labels)} rows, {features.shape[1]} "
            f"features, {len(splits)} folds"
        )
        try:
            if level == 2:
                layer1 = _load_models(env, settings)
                log(f"Stacking over {', '.join(name for name, _, _ in layer1)}")
                member, oof = ensembles.fit_stacker(
                    algorithm,
                    problem_type,
                    classes,
                    features,
                    labels,
                    splits,
                    layer1,
                    seed=settings["seed"],
                    deadline=deadline,
                    log=log,
                    weights=weights,
                )
            else:
                member, oof = ensembles.fit_bagged(
                    algorithm,
                    problem_type,
                    classes,
                    features,
                    labels,
                    splits,
                    seed=settings["seed"],
                    deadline=deadline,
                    log=log,
                    weights=weights,
                )
        except ensembles.TimeLimitReached as exc:
            raise TrainingError(str(exc)) from None
        model = ensembles.WeightedEnsemble(problem_type, classes, [member], [1.0])
    predictions = oof[held_out]
    if problem_type == BINARY and objective in ensembles.THRESHOLD_OBJECTIVES:
        model.threshold = ensembles.tune_threshold(labels, oof, objective, weights)
        log(
            f"Decision threshold {model.threshold:g} on the positive class's probability "
            f"(best out-of-fold {objective})"
        )
    threshold = model.threshold
    _report(reporter, "train_oof", ensembles.metrics(problem_type, labels, oof, weights, threshold))
    scores = ensembles.metrics(problem_type, valid_labels, predictions, valid_weights, threshold)
    _report(reporter, "validation", scores)
    _save(env, model, **{OOF_FILE: oof, VALIDATION_FILE: predictions})
    summary = {
        "algorithm": algorithm,
        "members": model.names,
        "weights": model.weights,
        "threshold": model.threshold,
        "validation": scores,
        "seconds": round(time.time() - started, 3),
    }
    (env.model_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    log(f"Validation {objective}: {scores[objective]!r} ({summary['seconds']} s)")


def _load_models(
    env: TrainingEnvironment, settings: dict[str, object]
) -> list[tuple[str, object, np.ndarray]]:
    """The jobs named in ``base_models`` from the ``models`` channel: (job, its model's one
    member, its out-of-fold predictions on the training and validation rows) each; a job
    without a model artifact is left out (the log says so)."""
    names = [n.strip() for n in str(settings["base_models"]).split(",") if n.strip()]
    if not names:
        raise TrainingError("base_models names no base model training job")
    found = []
    folder = env.channel_dir("models")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            archive = folder / name / "output" / "model.tar.gz"
            if not archive.is_file():
                log(f"Base model {name} has no model artifact; left out")
                continue
            into = Path(scratch) / name
            with tarfile.open(archive) as tar:
                tar.extractall(into, filter="data")
            base = joblib.load(into / MODEL_FILE)
            found.append((name, base.members[0], np.load(into / OOF_FILE)))
    if not found:
        raise TrainingError(f"none of the base models {', '.join(names)} has a model artifact")
    return found


def _ensemble(
    env: TrainingEnvironment,
    settings: dict[str, object],
    labels: np.ndarray,
    weights: np.ndarray | None,
    problem_type: str,
    objective: str,
) -> tuple[ensembles.WeightedEnsemble, np.ndarray]:
    loaded = _load_models(env, settings)
    found = [name for name, _, _ in loaded]
    members = [member for _, member, _ in loaded]
    oof = [values for _, _, values in loaded]
    # A stacker's layer-1 models are the ensemble's own layer-1 members where it has them:
    # stored once, and predicted once per request.
    by_name = {n: m for n, m in zip(found, members, strict=True)}
    for member in members:
        if isinstance(member, ensembles.StackedModel):
            member.layer1 = [
                by_name.get(n, m) for n, m in zip(member.layer1_names, member.layer1, strict=True)
            ]

    def score(truth: np.ndarray, candidate: np.ndarray) -> float:
        if problem_type == BINARY and objective in ensembles.THRESHOLD_OBJECTIVES:
            return ensembles.tuned_score(truth, candidate, objective, weights)
        return ensembles.objective_score(problem_type, objective, truth, candidate, weights)

    chosen = ensembles.select_weights(oof, labels, score, int(settings["selection_rounds"]))
    log(
        "Ensemble weights: " + ", ".join(f"{n}={w:.3f}" for n, w in zip(found, chosen, strict=True))
    )
    kept = [i for i, w in enumerate(chosen) if w > 0]
    model = ensembles.WeightedEnsemble(
        problem_type,
        members[0].classes,
        [members[i] for i in kept],
        [float(chosen[i]) for i in kept],
        [found[i] for i in kept],
    )
    return model, ensembles.combine(oof, chosen)
