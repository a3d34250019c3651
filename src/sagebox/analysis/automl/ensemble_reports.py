"""The reports of ENSEMBLING mode's candidates: model insights, explainability, the notebook.

Every candidate on the leaderboard (each bagged base model and the weighted ensemble) gets
the two reports HPO's best candidate gets, at the same locations and in the same shapes
(``reports.model_insights`` on its validation rows' out-of-fold predictions; ``analysis.json`` with the mean
|SHAP value| per input column). An ensemble has no tree structure to read, so its SHAP
values come from a model-agnostic explainer: ``shap``'s PermutationExplainer over the raw
input columns (the preprocessing inside the explained function), with an independent
masker over a small background sample of the validation rows. Each row is explained with
whole antithetic permutations, so the values are exact Shapley values (interventional,
against the background) for models whose interactions are at most pairwise, and an
unbiased estimate otherwise. The cost is bounded: at most MAX_EXPLAINED rows, fewer when
the time given is up (rows are explained a few at a time). All candidates are explained in
one pass, as the outputs of one function.

The candidate definition notebook (``notebooks.CANDIDATE_NOTEBOOK``) of an ENSEMBLING job
reproduces the weighted ensemble from its definition: the base models it keeps, the folds
and seed they were bagged with and their weights, refitted with the sagebox package on the
preprocessed training and validation splits, then compared with the trained ensemble on validation rows.

Pure: no service imports; the reports processing job (``python -m sagebox.analysis.automl
ensemble-reports``) runs `write_ensemble_reports`.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from sagebox.analysis.automl import ensembles, reports
from sagebox.analysis.automl.model_files import data_files, load, read_table
from sagebox.analysis.automl.notebooks import CANDIDATE_NOTEBOOK, notebook
from sagebox.analysis.automl.problems import BINARY, REGRESSION

MODEL_FILE = "ensemble.joblib"
VALIDATION_FILE = "validation.npy"
"""The validation rows' out-of-fold predictions an ENSEMBLING job saves beside its model."""
"""The weighted ensemble a ENSEMBLING training job saves (algorithms/automl_ensemble)."""
MAX_EXPLAINED = 200
BACKGROUND_ROWS = 20
MIN_EXPLAINED = 10
CHUNK_ROWS = 5
PERMUTATIONS = 1
"""Antithetic permutations per explained row (each is 2 * columns + 1 evaluations)."""
SEED = 0
METHOD = (
    "shap.PermutationExplainer over the raw input columns (preprocessing included), "
    "independent masker on {background} background rows, {rows} validation rows explained; "
    "mean |SHAP value| per column{classes}"
)


# -- explainability ----------------------------------------------------------------------------


@dataclass
class Explanation:
    values: np.ndarray
    """SHAP values: (rows, columns) for one output, (rows, columns, outputs) for several."""
    base_values: np.ndarray
    rows: pd.DataFrame
    """The raw rows explained."""
    background: pd.DataFrame

    def importance(self, columns: list[str]) -> dict[str, float]:
        """Mean |SHAP value| per column (averaged over outputs too), largest first."""
        magnitude = np.abs(self.values)
        per_column = magnitude.mean(axis=(0, 2)) if magnitude.ndim == 3 else magnitude.mean(axis=0)
        ranked = sorted(zip(columns, per_column, strict=True), key=lambda item: -item[1])
        return {column: float(value) for column, value in ranked}


def _shap() -> Any:
    """shap, imported with numba's JIT off when this process is the first to import it.
    shap's maskers compile their numba helpers on first use: 10 to 30 s per process on a busy
    two-core machine, far more than the few thousand masks of a report take as plain Python.
    (numba reads the flag when a function is decorated, i.e. when shap is imported.)"""
    import sys

    if "shap" not in sys.modules:
        import numba

        previous = numba.config.DISABLE_JIT
        numba.config.DISABLE_JIT = True
        try:
            import shap  # noqa: F401 - imported here: only the reports step needs it
        finally:
            numba.config.DISABLE_JIT = previous
    return sys.modules["shap"]


def _codes(frame: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each column's values as integer codes (missing: one code past the known values), and
    the values by code. The explainer then works on a numeric matrix whatever the columns
    hold (strings, dates, gaps): masking only swaps a row's value for a background row's, so
    every code it makes decodes back to a value the rows really had."""
    codes, values = [], []
    for column in frame.columns:
        code, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        missing = len(uniques)
        codes.append(np.where(code < 0, missing, code))
        values.append(np.append(np.asarray(uniques, dtype=object), np.nan))
    return np.column_stack(codes).astype(np.float64), values


def explain(
    predict: Callable[[pd.DataFrame], np.ndarray],
    rows: pd.DataFrame,
    background: pd.DataFrame,
    *,
    seconds: float | None = None,
    max_rows: int = MAX_EXPLAINED,
    seed: int = SEED,
) -> Explanation:
    """SHAP values of `predict` (raw rows -> one score per row, or a score per output) for
    up to `max_rows` of `rows`, with `background` as the masker's data; within about
    `seconds` when given (at least MIN_EXPLAINED rows are explained)."""
    shap = _shap()
    columns = list(rows.columns)
    table, values = _codes(pd.concat([background, rows], ignore_index=True))
    reference, explained = table[: len(background)], table[len(background) :]

    def decoded(matrix: np.ndarray) -> pd.DataFrame:
        index = matrix.astype(int)
        return pd.DataFrame(
            {c: values[i][index[:, i]] for i, c in enumerate(columns)}, columns=columns
        )

    def model(matrix: np.ndarray) -> np.ndarray:
        return np.asarray(predict(decoded(matrix)), dtype=np.float64)

    evaluations = PERMUTATIONS * (2 * len(columns) + 1)
    order = np.random.default_rng(seed).permutation(len(explained))[:max_rows]
    masker = shap.maskers.Independent(reference, max_samples=len(reference))
    explainer = shap.PermutationExplainer(model, masker, seed=seed)
    # Rows are explained a chunk at a time until the time is up (MIN_EXPLAINED at least); each
    # row's values do not depend on the chunks (the permutations come from one seeded stream).
    deadline = None if seconds is None else time.perf_counter() + seconds
    shap_values, base_values, done = [], [], 0
    while done < len(order):
        if deadline is not None and done >= MIN_EXPLAINED and time.perf_counter() >= deadline:
            break
        chunk = order[done : done + CHUNK_ROWS]
        # A batch larger than a row's evaluations: each row is then one call of the model.
        result = explainer(
            explained[chunk], max_evals=evaluations, batch_size=2 * evaluations, silent=True
        )
        shap_values.append(np.asarray(result.values))
        base_values.append(np.asarray(result.base_values))
        done += len(chunk)
    return Explanation(
        np.concatenate(shap_values),
        np.concatenate(base_values),
        rows.iloc[order[:done]].reset_index(drop=True),
        background.reset_index(drop=True),
    )


def _explained(predictions: np.ndarray, problem_type: str) -> np.ndarray:
    """What is explained of a candidate's predictions, as (rows, outputs): the value
    (regression), the positive class's probability (binary), each class's (multiclass)."""
    if problem_type == BINARY:
        return predictions[:, 1:2]
    return predictions.reshape(len(predictions), -1)


def candidate_outputs(
    models: dict[str, Any], problem_type: str
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, slice]]:
    """One function giving every candidate's explained outputs side by side, and each
    candidate's columns in them. All candidates are explained in one pass over the same
    masked rows: the preprocessing runs once per evaluation instead of once per candidate,
    and a weighted ensemble whose members are candidates here sums their predictions (as
    its own predict does, members being those candidates' models) instead of predicting
    them again."""
    names = list(models)

    def members(name: str) -> list[str]:
        return list(getattr(models[name], "names", None) or [])

    # Base models' candidates are ensembles of one without member names.
    combined = {
        n
        for n in names
        if isinstance(models[n], ensembles.WeightedEnsemble)
        and members(n)
        and len(members(n)) == len(models[n].members)
        and all(m in models and m != n and not members(m) for m in members(n))
    }

    def outputs(features: np.ndarray) -> np.ndarray:
        predictions: dict[str, np.ndarray] = {}
        for name in names:
            if name not in combined:
                predictions[name] = np.asarray(models[name].predict(features), dtype=np.float64)
        for name in combined:
            model = models[name]
            predictions[name] = np.asarray(
                sum(w * predictions[m] for m, w in zip(model.names, model.weights, strict=True)),
                dtype=np.float64,
            )
        return np.column_stack([_explained(predictions[n], problem_type) for n in names])

    width = 1 if problem_type in (BINARY, REGRESSION) else None
    columns, start = {}, 0
    for name in names:
        size = width or int(models[name].classes)
        columns[name] = slice(start, start + size)
        start += size
    return outputs, columns


def explainability(
    models: dict[str, Any],
    preprocessing: Any,
    rows: pd.DataFrame,
    *,
    seconds: float | None = None,
    max_rows: int = MAX_EXPLAINED,
    background_rows: int = BACKGROUND_ROWS,
) -> dict[str, dict[str, Any]]:
    """The explainability report (analysis.json) of each candidate over raw validation rows."""
    raw = rows[preprocessing.columns].reset_index(drop=True)
    picked = np.random.default_rng(SEED).choice(
        len(raw), min(background_rows, len(raw)), replace=False
    )
    outputs, columns = candidate_outputs(models, preprocessing.problem_type)
    explanation = explain(
        lambda frame: outputs(preprocessing.transform(frame)),
        raw,
        raw.iloc[np.sort(picked)],
        seconds=seconds,
        max_rows=max_rows,
    )
    classes = preprocessing.classes
    over = (
        f", for the probability of '{classes[1]}'"
        if preprocessing.problem_type == BINARY
        else ", averaged over the classes' probabilities"
        if preprocessing.problem_type != REGRESSION
        else ""
    )
    values = explanation.values.reshape(*explanation.values.shape[:2], -1)
    base = np.asarray(explanation.base_values).reshape(len(explanation.rows), -1)
    found = {}
    for name, part in columns.items():
        single = Explanation(
            values[:, :, part], base[:, part], explanation.rows, explanation.background
        )
        found[name] = {
            "explanations": {
                "kernel_shap": {
                    "label0": {"global_shap_values": single.importance(preprocessing.columns)}
                }
            },
            "method": METHOD.format(
                background=len(explanation.background), rows=len(explanation.rows), classes=over
            ),
            "rows_explained": len(explanation.rows),
            "background_rows": len(explanation.background),
            "expected_value": single.base_values.mean(axis=0).tolist(),
        }
    return found


# -- the candidates' files ---------------------------------------------------------------------


def load_ensemble(archive: Path, into: Path) -> Any:
    """The model (a WeightedEnsemble) inside one ENSEMBLING training job's model.tar.gz."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return joblib.load(into / MODEL_FILE)


def _archive(models: Path, candidate: str) -> Path | None:
    """<candidate>/output/model.tar.gz anywhere below the ensembling output folder."""
    found = sorted(models.rglob(f"{candidate}/output/model.tar.gz"))
    return found[0] if found else None


def _numeric_csv(folder: Path) -> np.ndarray:
    frames = [pd.read_csv(p, header=None, dtype=np.float64) for p in data_files(folder)]
    return pd.concat(frames, ignore_index=True).to_numpy()


def _write(folder: Path, name: str, content: dict[str, Any], page: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    (folder / "report.html").write_text(page, encoding="utf-8")


def explainability_page(report: dict[str, Any]) -> str:
    ranked = report["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    names, values = list(ranked)[::-1], list(ranked.values())[::-1]
    figure = reports.figure_html(
        lambda ax: (
            ax.barh(names, values),
            ax.set_title("Mean |SHAP value| per column"),
            ax.set_xlabel("mean |SHAP value|"),
        )
    )
    return reports.page(
        "Explainability: mean |SHAP| per column", ranked, [f"<p>{report['method']}</p>", figure]
    )


def write_ensemble_reports(
    input_dir: Path,
    output_dir: Path,
    seconds: float,
    parts: tuple[str, ...] = ("explainability", "insights"),
) -> dict[str, Any]:
    """The reports named in `parts` for every candidate listed in ``context/candidates.json``
    (name, model URL, algorithm; the job's S3 locations for the notebook), below
    ``output_dir/documentation/{explainability,model-insights}/<candidate>/output``; with
    ``insights``, the candidate definition notebook in ``output_dir/notebooks`` too.
    `seconds`: the explainers' time, shared by the candidates."""
    context = json.loads(next((input_dir / "context").rglob("*.json")).read_text("utf-8"))
    analysis = json.loads((input_dir / "analysis" / "analysis.json").read_text(encoding="utf-8"))
    scratch = Path(tempfile.mkdtemp(prefix="reports-", dir=output_dir.parent))
    candidates = context["candidates"]
    models: dict[str, Any] = {}
    for entry in candidates:
        archive = _archive(input_dir / "models", entry["name"])
        if archive is not None:
            models[entry["name"]] = load_ensemble(archive, scratch / entry["name"])
    written: dict[str, Any] = {name: {} for name in models}
    if "insights" in parts and models:
        data = _numeric_csv(input_dir / "validation")
        # The label, then the sample weight when the job has one: the insights weigh the rows
        # as the objective does.
        weighted = bool(analysis.get("sample_weight"))
        labels = data[:, 0]
        weights = data[:, 1] if weighted else None
        classes = [str(c) for c in analysis["classes"]]
        for name, model in models.items():
            # The job's folds spanned the validation rows: its saved out-of-fold predictions
            # on them are what its objective scored, not the bagged model's prediction.
            scores = np.load(scratch / name / VALIDATION_FILE)
            if len(scores) != len(labels):
                raise ValueError(
                    f"{name} saved {len(scores)} validation predictions for {len(labels)} rows"
                )
            insights = reports.model_insights(
                labels,
                scores,
                analysis["problem_type"],
                classes,
                weights,
                getattr(model, "threshold", None),
            )
            _write(
                output_dir / "documentation" / "model-insights" / name / "output",
                "model_insights.json",
                insights,
                reports.insights_page(insights),
            )
            written[name] = insights["metrics"]
        chosen = next(
            (c for c in candidates if c.get("ensemble") and c["name"] in models),
            next((c for c in candidates if c["name"] in models), None),
        )
        if chosen is not None:
            folder = output_dir / "notebooks"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / CANDIDATE_NOTEBOOK).write_text(
                definition_notebook(models[chosen["name"]], chosen, context, analysis),
                encoding="utf-8",
            )
    if "explainability" in parts and models:
        preprocessing = load(reports.unpack(input_dir / "preprocessing", scratch / "preprocessing"))
        raw = read_table(data_files(input_dir / "raw-validation"))
        for name, explained in explainability(models, preprocessing, raw, seconds=seconds).items():
            _write(
                output_dir / "documentation" / "explainability" / name / "output",
                "analysis.json",
                explained,
                explainability_page(explained),
            )
    return written


# -- the candidate definition notebook ----------------------------------------------------------

_HELPERS = '''import io
import tarfile
import tempfile
from pathlib import Path

import boto3
import joblib
import numpy as np
import pandas as pd

from sagebox.analysis.automl import ensembles

s3 = boto3.client("s3")  # AWS_ENDPOINT_URL points it at sagebox


def _split(uri):
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def read_numeric_csv(prefix):
    """The rows of every CSV object below an S3 prefix (no header), as the training jobs read them."""
    bucket, key = _split(prefix)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    frames = [
        pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()),
                    header=None, dtype=np.float64)
        for o in sorted(listed, key=lambda o: o["Key"]) if o["Size"] > 0
    ]
    return pd.concat(frames, ignore_index=True).to_numpy()


def load_trained(uri):
    """The trained candidate saved by its training job (model.tar.gz holds ensemble.joblib)."""
    bucket, key = _split(uri)
    folder = Path(tempfile.mkdtemp())
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        archive.extractall(folder, filter="data")
    return joblib.load(folder / "ensemble.joblib")
'''

_REFIT = """# The jobs' folds span the training and the validation rows, in that order.
train = np.vstack([read_numeric_csv(TRAIN), read_numeric_csv(VALIDATION)])
# The preprocessed rows: the label, the sample weight when the job has one, the features.
labels, weights = train[:, 0], (train[:, 1] if WEIGHTED else None)
features = train[:, 2:] if WEIGHTED else train[:, 1:]
splits = ensembles.folds(labels, PROBLEM_TYPE, FOLDS, SEED)
bagged = {}


def base_model(job, algorithm):
    \"\"\"A layer-1 model (and its out-of-fold predictions), fitted once however often used.\"\"\"
    if job not in bagged:
        bagged[job] = ensembles.fit_bagged(
            algorithm, PROBLEM_TYPE, CLASSES, features, labels, splits, seed=SEED, weights=weights
        )
    return bagged[job]


members = []
for member in MEMBERS:
    if member.get("layer1"):  # a layer-2 stacker over layer-1 models' out-of-fold predictions
        layer1 = [(job, *base_model(job, algorithm)) for job, algorithm in member["layer1"]]
        model, _ = ensembles.fit_stacker(
            member["algorithm"], PROBLEM_TYPE, CLASSES, features, labels, splits, layer1,
            seed=SEED, weights=weights,
        )
        print(f"{member['job']}: {member['algorithm']} stacked over {len(layer1)} layer-1 models, "
              f"weight {member['weight']:.3f}")
    else:
        model, _ = base_model(member["job"], member["algorithm"])
        print(f"{member['job']}: {member['algorithm']} bagged over {len(model.models)} folds, "
              f"weight {member['weight']:.3f}")
    members.append(model)
# THRESHOLD: the binary decision threshold the ensemble job tuned on its out-of-fold
# predictions (ensembles.tune_threshold; None: the most probable class).
ensemble = ensembles.WeightedEnsemble(
    PROBLEM_TYPE, CLASSES, members, [m["weight"] for m in MEMBERS], [m["job"] for m in MEMBERS],
    threshold=THRESHOLD,
)
"""

_COMPARE = """validation = read_numeric_csv(VALIDATION)
rows = validation[:ROWS, 2:] if WEIGHTED else validation[:ROWS, 1:]
refitted = ensemble.predict(rows)
trained = load_trained(MODEL).predict(rows)
difference = float(np.max(np.abs(refitted - trained)))
print(f"largest difference on {len(rows)} validation rows: {difference:.3g}")
"""


def definition_notebook(
    model: Any, chosen: dict[str, Any], context: dict[str, Any], analysis: dict[str, Any]
) -> str:
    """The notebook that refits `model` (the candidate `chosen`) from its definition."""
    members = []
    for job, member, weight in zip(
        model.names or [chosen["name"]], model.members, model.weights, strict=True
    ):
        entry: dict[str, Any] = {"job": job, "algorithm": member.algorithm, "weight": float(weight)}
        if isinstance(member, ensembles.StackedModel):
            entry["layer1"] = [
                [name, bag.algorithm]
                for name, bag in zip(member.layer1_names, member.layer1, strict=True)
            ]
        members.append(entry)
    board = "\n".join(
        f"| {c['name']} | {c['algorithm']} | {c.get('objective', '')} |"
        for c in context["candidates"]
    )
    parameters = "\n".join(
        [
            f"PROBLEM_TYPE = {json.dumps(analysis['problem_type'])}",
            f"CLASSES = {0 if analysis['problem_type'] == REGRESSION else len(analysis['classes'])}",
            f"FOLDS = {int(context['folds'])}",
            f"SEED = {int(context['seed'])}",
            f"WEIGHTED = {bool(analysis.get('sample_weight'))}",
            f"TRAIN = {json.dumps(context['train'])}",
            f"VALIDATION = {json.dumps(context['validation'])}",
            f"MODEL = {json.dumps(chosen['model'])}",
            "ROWS = 5",
            f"THRESHOLD = {getattr(model, 'threshold', None)!r}",
            f"MEMBERS = {json.dumps(members, indent=4)}",
        ]
    )
    return notebook(
        [
            (
                "markdown",
                f"# Candidate definitions (ENSEMBLING)\n\nProblem type {analysis['problem_type']}, "
                f"objective {analysis['objective']} on the validation split. Every base model is "
                f"bagged: one copy per fold of the preprocessed training split ({context['folds']} "
                f"folds, seed {context['seed']}), its held-out predictions are its out-of-fold "
                "predictions; the weighted ensemble weights the base models by greedy ensemble "
                "selection on those.\n\n| candidate | algorithm | objective |\n| --- | --- | --- |\n"
                f"{board}\n",
            ),
            (
                "markdown",
                f"## `{chosen['name']}`\n\nThe cells below refit it from its definition with the "
                "sagebox package (the base models, their folds and seed, the weights) and compare "
                "its predictions with the trained candidate's on a few validation rows. The data "
                "and models are read from S3 (`AWS_ENDPOINT_URL` pointing at sagebox).\n",
            ),
            ("code", parameters + "\n"),
            ("code", _HELPERS),
            ("code", _REFIT),
            ("code", _COMPARE),
        ]
    )
