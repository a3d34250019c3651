"""The analysis report in three copies: ``<name>.html``, ``<name>.ipynb`` and ``<name>.pdf``.

The same content in each: the configuration in words, a table per facet and sensitive
group of the bias metrics with a bar chart, the global SHAP values with a bar chart per
label, and a plot per partial dependence. Plots are drawn with matplotlib (Agg); the
notebook is a static one (nbformat 4, plots as image/png outputs) whose first code cell
loads analysis.json; the PDF is matplotlib's own (a page of text, then a page a plot).
Without matplotlib the HTML and notebook are written without plots and the PDF is left
out.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from pathlib import Path
from typing import Any

from sagebox.analysis.clarify.config import AnalysisConfig

log = logging.getLogger("sagebox.clarify")
TOP_FEATURES = 20


def _pyplot() -> Any | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _bias_figures(plt: Any, analysis: dict[str, Any]) -> list[tuple[str, Any]]:
    figures = []
    for key, title in (("pre_training_bias_metrics", "Pre-training bias"), ("post_training_bias_metrics", "Post-training bias")):
        section = analysis.get(key)
        if not section:
            continue
        for facet, groups in section["facets"].items():
            for group in groups:
                metrics = [m for m in group["metrics"] if isinstance(m.get("value"), int | float)]
                if not metrics:
                    continue
                figure, axes = plt.subplots(figsize=(7, 0.45 * len(metrics) + 1.2))
                axes.barh([m["name"] for m in metrics], [m["value"] for m in metrics], color="#2f6f9f")
                axes.axvline(0, color="black", linewidth=0.8)
                axes.set_title(f"{title}: {facet} = {group['value_or_threshold']}")
                axes.invert_yaxis()
                figure.tight_layout()
                figures.append((f"{title}: facet {facet} = {group['value_or_threshold']}", figure))
    return figures


def _explanation_figures(plt: Any, analysis: dict[str, Any]) -> list[tuple[str, Any]]:
    figures = []
    explanations = analysis.get("explanations", {})
    for label, values in explanations.get("kernel_shap", {}).items():
        ranked = sorted(values["global_shap_values"].items(), key=lambda item: -abs(item[1]))[:TOP_FEATURES]
        figure, axes = plt.subplots(figsize=(7, 0.35 * len(ranked) + 1.2))
        axes.barh([name for name, _ in ranked], [value for _, value in ranked], color="#c0504d")
        axes.invert_yaxis()
        axes.set_title(f"Global SHAP values ({label})")
        figure.tight_layout()
        figures.append((f"Global SHAP values, {label}", figure))
    for entry in explanations.get("pdp", []):
        if "error" in entry:
            continue
        figure, axes = plt.subplots(figsize=(7, 3.5))
        for index, line in enumerate(entry["model_predictions"]):
            name = entry["label_headers"][index] if index < len(entry["label_headers"]) else f"label{index}"
            if entry["data_type"] == "numerical":
                axes.plot(entry["feature_values"], line, marker="o", label=name)
            else:
                axes.bar([str(v) for v in entry["feature_values"]], line, alpha=0.7, label=name)
        axes.set_xlabel(entry["feature_name"])
        axes.set_ylabel("mean model output")
        axes.set_title(f"Partial dependence on {entry['feature_name']}")
        axes.legend()
        figure.tight_layout()
        figures.append((f"Partial dependence: {entry['feature_name']}", figure))
    return figures


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _value(metric: dict[str, Any]) -> str:
    value = metric.get("value")
    if value is None:
        return f"error: {metric.get('error', '')}"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def summary(config: AnalysisConfig, analysis: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """(heading, table rows) in reading order: the text every copy shows."""
    parts: list[tuple[str, list[list[str]]]] = []
    if config.label is not None:
        positive = ", ".join(str(v) for v in config.label_values_or_threshold or ())
        parts.append((f"Outcome label: column {config.label}, positive outcome {positive or '-'}", []))
    for key, title in (("pre_training_bias_metrics", "Pre-training bias metrics"), ("post_training_bias_metrics", "Post-training bias metrics")):
        section = analysis.get(key)
        if not section:
            continue
        for facet, groups in section["facets"].items():
            for group in groups:
                rows = [[m["name"], m["description"], _value(m)] for m in group["metrics"]]
                parts.append((f"{title}: facet {facet} = {group['value_or_threshold']} (label {section['label']} = {section['label_value_or_threshold']})", rows))
    for label, values in analysis.get("explanations", {}).get("kernel_shap", {}).items():
        ranked = sorted(values["global_shap_values"].items(), key=lambda item: -abs(item[1]))
        rows = [[name, f"{value:.6g}"] for name, value in ranked]
        parts.append((f"Global SHAP values ({label}), expected value {values['expected_value']:.6g}", rows))
    return parts


def _html(title: str, parts: list[tuple[str, list[list[str]]]], images: list[tuple[str, str]]) -> str:
    body = [f"<h1>{html.escape(title)}</h1>", "<p>This report is the output of a SageMaker Clarify analysis run by sagebox.</p>"]
    for heading, rows in parts:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        if rows:
            cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
            body.append(f"<table border='1' cellpadding='4'>{cells}</table>")
    for caption, data in images:
        body.append(f"<h3>{html.escape(caption)}</h3><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'/>")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>{''.join(body)}</body></html>\n"


def _markdown(heading: str, rows: list[list[str]]) -> str:
    lines = [f"## {heading}"]
    if rows:
        lines += ["", "| " + " | ".join(["name", "description", "value"][: len(rows[0])]) + " |", "|" + " --- |" * len(rows[0])]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _notebook(title: str, parts: list[tuple[str, list[list[str]]]], images: list[tuple[str, str]]) -> dict[str, Any]:
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "metadata": {}, "source": f"# {title}\n\nThe output of a SageMaker Clarify analysis."},
        {
            "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": "import json\nwith open('analysis.json') as f:\n    analysis = json.load(f)",
        },
    ]
    cells += [{"cell_type": "markdown", "metadata": {}, "source": _markdown(h, r)} for h, r in parts]
    for caption, data in images:
        cells.append({
            "cell_type": "code", "execution_count": None, "metadata": {}, "source": f"# {caption}",
            "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": data, "text/plain": caption}}],
        })
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"language_info": {"name": "python"}}, "cells": cells}


def _pdf(path: Path, plt: Any, title: str, parts: list[tuple[str, list[list[str]]]], figures: list[tuple[str, Any]]) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    lines = [title, ""]
    for heading, rows in parts:
        lines.append(heading)
        lines += ["    " + "  ".join(row[:1] + row[-1:]) for row in rows]
        lines.append("")
    with PdfPages(path) as pdf:
        for start in range(0, len(lines), 60):
            page = plt.figure(figsize=(8.27, 11.69))
            page.text(0.05, 0.97, "\n".join(lines[start : start + 60]), va="top", family="monospace", fontsize=7)
            pdf.savefig(page)
            plt.close(page)
        for _, figure in figures:
            pdf.savefig(figure)


def write_reports(folder: Path, config: AnalysisConfig, analysis: dict[str, Any]) -> list[Path]:
    """Writes the report copies into `folder`; returns the files written."""
    plt = _pyplot()
    figures = (_bias_figures(plt, analysis) + _explanation_figures(plt, analysis)) if plt else []
    images = [(caption, _png(figure)) for caption, figure in figures]
    parts = summary(config, analysis)
    name, title = config.report_name, config.report_title
    written = [folder / f"{name}.html", folder / f"{name}.ipynb"]
    written[0].write_text(_html(title, parts, images), encoding="utf-8")
    written[1].write_text(json.dumps(_notebook(title, parts, images), indent=1), encoding="utf-8")
    if plt is not None:
        _pdf(folder / f"{name}.pdf", plt, title, parts, figures)
        written.append(folder / f"{name}.pdf")
        for _, figure in figures:
            plt.close(figure)
    else:
        log.warning("matplotlib is not installed: the report has no plots and no PDF copy")
    return written
