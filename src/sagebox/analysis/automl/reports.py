"""The reports of an AutoML job's best candidate: model insights and explainability.

Model insights (``model_insights.json`` and ``report.html``): on the validation split,
classification gets the metric table, the confusion matrix, per-class precision, recall
and F1, and for binary problems the ROC and precision-recall curves; regression gets the
metric table, residual statistics and predicted-versus-actual points. Explainability
(``analysis.json`` and ``report.html``): mean absolute SHAP values (``shap``'s
TreeExplainer on the candidate's booster) per feature of the model, summed over the
features each raw column makes, as the global importance of each input column.
"""

from __future__ import annotations

import base64
import html
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn import metrics as skm

from sagebox.analysis.automl.columns import source_columns
from sagebox.analysis.automl.model_files import load
from sagebox.analysis.automl.problems import BINARY, REGRESSION

CURVE_POINTS = 101
SCATTER_POINTS = 500
FIGURE_DPI = 72
"""Enough for a 5 x 4 inch plot on a page; rendering is most of a report's time."""


def unpack(folder: Path, into: Path) -> Path:
    for archive in folder.rglob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    return into


def _booster(folder: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(str(folder / "xgboost-model"))
    return booster


def _probabilities(scores: np.ndarray) -> np.ndarray:
    return np.column_stack([1 - scores, scores]) if scores.ndim == 1 else scores


def _curve(x: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """A curve thinned to at most CURVE_POINTS points."""
    keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), CURVE_POINTS)).astype(int))
    return {"x": [float(v) for v in x[keep]], "y": [float(v) for v in y[keep]]}


def model_insights(
    labels: np.ndarray,
    scores: np.ndarray,
    problem_type: str,
    classes: list[str],
    weights: np.ndarray | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """The metrics, curves and tables of one candidate on the validation split. With the
    rows' sample `weights`, the metrics and curves are weighted as the objective is; the
    confusion matrix, per-class support and residual summary stay counts of rows. A binary
    candidate's decision `threshold` (on the positive class's probability) decides its
    predicted labels, as its model server does."""
    w = {"sample_weight": weights}
    if problem_type == REGRESSION:
        residuals = scores - labels
        mse = float(np.average(residuals**2, weights=weights))
        keep = np.linspace(0, len(labels) - 1, min(len(labels), SCATTER_POINTS)).astype(int)
        return {
            "problem_type": problem_type,
            "metrics": {
                "MSE": mse,
                "RMSE": float(np.sqrt(mse)),
                "MAE": float(np.average(np.abs(residuals), weights=weights)),
                "R2": float(skm.r2_score(labels, scores, **w)),
            },
            "residuals": {
                "mean": float(np.mean(residuals)),
                "std": float(np.std(residuals)),
                "quantiles": {
                    str(q): float(np.quantile(residuals, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)
                },
            },
            "predicted_vs_actual": {
                "actual": labels[keep].tolist(),
                "predicted": scores[keep].tolist(),
            },
        }
    probabilities = _probabilities(scores)
    if threshold is not None and probabilities.shape[1] == 2:
        predicted = (probabilities[:, 1] >= threshold).astype(int)
    else:
        predicted = probabilities.argmax(axis=1)
    truth = labels.astype(int)
    indices = list(range(len(classes)))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, predicted, labels=indices, zero_division=0
    )
    report: dict[str, Any] = {
        "problem_type": problem_type,
        "labels": classes,
        "metrics": {
            "Accuracy": float(skm.accuracy_score(truth, predicted, **w)),
            "BalancedAccuracy": float(skm.balanced_accuracy_score(truth, predicted, **w)),
            "F1macro": float(skm.f1_score(truth, predicted, average="macro", zero_division=0, **w)),
            "LogLoss": float(skm.log_loss(truth, probabilities, labels=indices, **w)),
        },
        "confusion_matrix": skm.confusion_matrix(truth, predicted, labels=indices).tolist(),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
    }
    if problem_type == BINARY:
        report["decision_threshold"] = 0.5 if threshold is None else float(threshold)
        positive = probabilities[:, 1]
        fpr, tpr, _ = skm.roc_curve(truth, positive, **w)
        precisions, recalls, _ = skm.precision_recall_curve(truth, positive, **w)
        report["metrics"].update(
            {
                "AUC": float(skm.roc_auc_score(truth, positive, **w)),
                "F1": float(skm.f1_score(truth, predicted, zero_division=0, **w)),
                "Precision": float(skm.precision_score(truth, predicted, zero_division=0, **w)),
                "Recall": float(skm.recall_score(truth, predicted, zero_division=0, **w)),
            }
        )
        report["roc_curve"] = {
            "false_positive_rate": _curve(fpr, tpr)["x"],
            "true_positive_rate": _curve(fpr, tpr)["y"],
        }
        report["precision_recall_curve"] = {
            "recall": _curve(recalls, precisions)["x"],
            "precision": _curve(recalls, precisions)["y"],
        }
    return report


def explainability(
    booster: xgb.Booster, features: np.ndarray, sources: list[str]
) -> dict[str, Any]:
    import shap  # imported here: a second or two that only this step needs

    values = np.asarray(shap.TreeExplainer(booster).shap_values(features))
    if values.ndim == 3:  # multiclass: (rows, features, classes)
        per_feature = np.abs(values).mean(axis=(0, 2))
    else:
        per_feature = np.abs(values).mean(axis=0)
    importance: dict[str, float] = {}
    for source, value in zip(sources, per_feature, strict=True):
        importance[source] = importance.get(source, 0.0) + float(value)
    ranked = dict(sorted(importance.items(), key=lambda item: -item[1]))
    return {
        "explanations": {"kernel_shap": {"label0": {"global_shap_values": ranked}}},
        "method": "shap.TreeExplainer, mean |SHAP value| on the validation split, summed per input column",
    }


def figure_html(draw: Any) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 4))
    draw(axes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    plt.close(figure)
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"/>'


def page(title: str, table: dict[str, Any], figures: list[str]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{v:.6g}</td></tr>" for k, v in table.items()
    )
    return (
        f"<html><head><title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<table border='1'>{rows}</table>{''.join(figures)}</body></html>"
    )


def insights_page(report: dict[str, Any]) -> str:
    figures = []
    if "roc_curve" in report:
        roc = report["roc_curve"]
        figures.append(
            figure_html(
                lambda ax: (
                    ax.plot(roc["false_positive_rate"], roc["true_positive_rate"]),
                    ax.set_title("ROC curve"),
                    ax.set_xlabel("false positive rate"),
                )
            )
        )
        pr = report["precision_recall_curve"]
        figures.append(
            figure_html(
                lambda ax: (
                    ax.plot(pr["recall"], pr["precision"]),
                    ax.set_title("Precision-recall curve"),
                    ax.set_xlabel("recall"),
                )
            )
        )
    if "confusion_matrix" in report:
        matrix = np.array(report["confusion_matrix"])
        figures.append(
            figure_html(
                lambda ax: (
                    ax.imshow(matrix),
                    ax.set_title("Confusion matrix"),
                    ax.set_xlabel("predicted"),
                    ax.set_ylabel("actual"),
                )
            )
        )
    if "predicted_vs_actual" in report:
        points = report["predicted_vs_actual"]
        figures.append(
            figure_html(
                lambda ax: (
                    ax.scatter(points["actual"], points["predicted"], s=4),
                    ax.set_title("Predicted vs actual"),
                    ax.set_xlabel("actual"),
                )
            )
        )
    return page("Model insights", report["metrics"], figures)


def write_reports(
    input_dir: Path, output_dir: Path, parts: tuple[str, ...] = ("explainability", "insights")
) -> dict[str, Any]:
    """The best candidate's reports named in `parts` (``insights``: model insights in
    ``output_dir/insights``; ``explainability``: in ``output_dir/explainability``)."""
    analysis = json.loads((input_dir / "analysis" / "analysis.json").read_text(encoding="utf-8"))
    booster = _booster(unpack(input_dir / "model", output_dir.parent / "unpacked" / "model"))
    data = np.loadtxt(next((input_dir / "validation").rglob("*.csv")), delimiter=",", ndmin=2)
    # With sample weights the weight column follows the label; the metrics weigh the rows as
    # the candidates' objective does.
    weighted = bool(analysis.get("sample_weight"))
    labels, features = data[:, 0], data[:, 2:] if weighted else data[:, 1:]
    written: dict[str, Any] = {"metrics": {}}
    if "insights" in parts:
        scores = booster.predict(xgb.DMatrix(features))
        insights = model_insights(
            labels,
            scores,
            analysis["problem_type"],
            [str(c) for c in analysis["classes"]],
            data[:, 1] if weighted else None,
        )
        _write_report(
            output_dir / "insights", "model_insights.json", insights, insights_page(insights)
        )
        written["metrics"] = insights["metrics"]
    if "explainability" in parts:
        preprocessing = load(
            unpack(input_dir / "preprocessing", output_dir.parent / "unpacked" / "preprocessing")
        )
        explained = explainability(
            booster, features, source_columns(preprocessing.pipeline, preprocessing.columns)
        )
        ranked = explained["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
        _write_report(
            output_dir / "explainability",
            "analysis.json",
            explained,
            page("Explainability: mean |SHAP| per column", ranked, []),
        )
    return written


def _write_report(folder: Path, name: str, content: dict[str, Any], html_page: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    (folder / "report.html").write_text(html_page, encoding="utf-8")
