"""The reports of a time-series AutoML job's candidates: model insights and explainability.

Model insights (``model_insights.json`` and ``report.html``) per candidate, from its
backtest (the forecasts of every backtest window, ``backtest_forecasts.csv``, and the
prepared series they cut): Autopilot's metrics (wQL per quantile and their mean, MAPE,
MASE, RMSE, WAPE) over all windows, per window and per item, and a page plotting each
item's history, actual values and forecasts (mean and the outer quantiles) in the
windows. Per item, the metrics average the item's windows as the overall metrics average
the windows; each window's MASE is scaled by the item's seasonal error on the history
before that window, as the backtest scales it.

Explainability: Autopilot's time-series explainability report attributes forecasts to
related time series, holidays and static item metadata. sagebox's candidates (ETS, ARIMA,
Theta, seasonal naive, NPTS) forecast an item from its own target history only and
sagebox takes no related columns or holiday features, so there is nothing to attribute:
the report (``analysis.json`` and ``report.html``) says so and lists no attributions,
rather than inventing them.

Pure: no service imports; the reports processing job (``python -m sagebox.analysis.automl
forecast-reports``) runs `write_forecast_reports`.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagebox.analysis.automl import reports
from sagebox.analysis.automl.forecast_metrics import all_metrics, seasonal_error
from sagebox.analysis.automl.model_files import data_files

FORECASTS, METRICS = "backtest_forecasts.csv", "backtest_metrics.json"
QUANTILE_COLUMN = re.compile(r"^p(\d+)$")
PLOTTED_ITEMS = 6
HISTORY_SHOWN = 40
"""Steps of history before the first backtest window shown in each item's plot."""
NO_ATTRIBUTION = (
    "The candidate forecasts each item from the item's own target history only: the job has "
    "no related time series, holiday features or static item metadata (sagebox takes none), "
    "so there is nothing to attribute its forecasts to and no attributions are reported."
)


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _levels(points: pd.DataFrame) -> dict[float, str]:
    """The quantile columns of the backtest forecasts (p10 -> 0.1, ...)."""
    return {
        int(match.group(1)) / 100: column
        for column in points.columns
        if (match := QUANTILE_COLUMN.match(column))
    }


def _scores(rows: pd.DataFrame, levels: dict[float, str], scale: float) -> dict[str, float | None]:
    usable = np.isfinite(rows["actual"].to_numpy(float))
    part = rows[usable]
    metrics = all_metrics(
        part["actual"].to_numpy(float),
        part["mean"].to_numpy(float),
        {q: part[c].to_numpy(float) for q, c in levels.items()},
        np.full(len(part), scale),
    )
    for q, column in levels.items():
        actual = part["actual"].to_numpy(float)
        error = actual - part[column].to_numpy(float)
        total = float(np.sum(np.abs(actual)))
        loss = 2 * float(np.sum(np.maximum(q * error, (q - 1) * error)))
        metrics[f"wQL[{q:g}]"] = loss / total if total > 0 else math.nan
    return {name: _finite(value) for name, value in metrics.items()}


def _mean(scores: list[dict[str, float | None]]) -> dict[str, float | None]:
    names = scores[0].keys() if scores else []
    averaged = {}
    for name in names:
        values = [s[name] for s in scores if s[name] is not None]
        averaged[name] = float(np.mean(values)) if values else None
    return averaged


def model_insights(
    points: pd.DataFrame,
    series: dict[str, pd.Series],
    season: int,
    backtest: dict[str, Any],
) -> dict[str, Any]:
    """The insights of one candidate from its backtest forecasts and the series they cut."""
    levels = _levels(points)
    points = points.assign(item_id=points["item_id"].astype(str))
    per_item: dict[str, list[dict[str, float | None]]] = {}
    for (item, window), rows in points.groupby(["item_id", "backtest_window"], sort=True):
        values = series.get(item)
        scale = math.nan
        if values is not None:
            cut = len(values) - int(window) * len(rows)
            history = values.iloc[: max(cut, 0)].to_numpy(float)
            scale = seasonal_error(history[np.isfinite(history)], season)
        per_item.setdefault(item, []).append(_scores(rows, levels, scale))
    return {
        "problem_type": "TimeSeriesForecasting",
        "model": backtest.get("model"),
        "quantiles": [levels[q] for q in sorted(levels)],
        "metrics": {k: _finite(v) for k, v in backtest.get("metrics", {}).items()},
        "backtest_windows": [
            {k: (_finite(v) if k != "backtest_window" else int(v)) for k, v in w.items()}
            for w in backtest.get("windows", [])
        ],
        "items": {item: _mean(scores) for item, scores in per_item.items()},
    }


def explainability(insights: dict[str, Any], grouping: list[str]) -> dict[str, Any]:
    return {
        "problem_type": "TimeSeriesForecasting",
        "model": insights.get("model"),
        "explanations": {},
        "attributions": [],
        "related_time_series": [],
        "holidays": [],
        "static_attributes": [],
        "grouping_attributes": grouping,
        "note": NO_ATTRIBUTION,
    }


def _table(title: str, rows: dict[str, dict[str, float | None]]) -> str:
    if not rows:
        return ""
    names = list(next(iter(rows.values())))
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join(
        f"<tr><td>{html.escape(str(key))}</td>"
        + "".join(
            f"<td>{'' if values.get(n) is None else format(values[n], '.4g')}</td>" for n in names
        )
        + "</tr>"
        for key, values in rows.items()
    )
    return f"<h2>{html.escape(title)}</h2><table border='1'><tr><th></th>{head}</tr>{body}</table>"


def insights_page(
    insights: dict[str, Any], points: pd.DataFrame, series: dict[str, pd.Series]
) -> str:
    levels = _levels(points)
    low, high = (levels[min(levels)], levels[max(levels)]) if levels else (None, None)
    figures = []
    for item in sorted(points["item_id"].astype(str).unique())[:PLOTTED_ITEMS]:
        rows = points[points["item_id"].astype(str) == item].copy()
        rows["timestamp"] = pd.to_datetime(rows["timestamp"])
        values = series.get(item)

        def draw(
            ax: Any, item: str = item, rows: pd.DataFrame = rows, values: Any = values
        ) -> None:
            if values is not None:
                start = rows["timestamp"].min()
                shown = values[values.index < start].iloc[-HISTORY_SHOWN:]
                ax.plot(shown.index, shown.to_numpy(), color="grey", label="history")
            for _, part in rows.groupby("backtest_window"):
                ax.plot(part["timestamp"], part["actual"], color="black", marker=".")
                ax.plot(part["timestamp"], part["mean"], color="tab:blue", marker=".")
                if low is not None and high is not None and low != high:
                    ax.fill_between(part["timestamp"], part[low], part[high], alpha=0.25)
            ax.set_title(f"{item}: forecast (blue, {low}-{high}) vs actual (black)")
            ax.tick_params(axis="x", labelrotation=30)

        figures.append(reports.figure_html(draw))
    overall = {k: v for k, v in insights["metrics"].items() if v is not None}
    windows = {
        f"window {w['backtest_window']}": {k: v for k, v in w.items() if k != "backtest_window"}
        for w in insights["backtest_windows"]
    }
    tables = _table("Backtest windows", windows) + _table("Items", insights["items"])
    return reports.page(
        f"Model insights: {insights.get('model')} (backtest)", overall, [tables, *figures]
    )


def explainability_page(report: dict[str, Any]) -> str:
    title = "Explainability (time series)"
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{html.escape(report['note'])}</p></body></html>"
    )


def read_series(folder: Path) -> dict[str, pd.Series]:
    """The prepared series (``item_id,timestamp,target``) of the AnalyzingData step."""
    files = [p for p in data_files(folder) if p.suffix == ".csv"]
    frame = pd.concat([pd.read_csv(p, dtype={"item_id": str}) for p in files])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return {
        str(item): rows.set_index("timestamp")["target"].sort_index().astype(float)
        for item, rows in frame.groupby("item_id", sort=True)
    }


def write_forecast_reports(
    input_dir: Path, output_dir: Path, parts: tuple[str, ...] = ("explainability", "insights")
) -> dict[str, Any]:
    """The reports named in `parts` (``insights``, ``explainability``) for every candidate
    folder below ``backtests`` (its backtest files), in
    ``output_dir/documentation/{model-insights,explainability}/<candidate>/output``."""
    analysis = json.loads((input_dir / "analysis" / "analysis.json").read_text(encoding="utf-8"))
    series = read_series(input_dir / "train")
    season = int(analysis.get("season") or 1)
    grouping = list(analysis.get("grouping") or [])
    written = {}
    for forecasts in sorted((input_dir / "backtests").rglob(FORECASTS)):
        candidate = forecasts.parent.name
        metrics_file = forecasts.parent / METRICS
        backtest = (
            json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
        )
        points = pd.read_csv(forecasts, dtype={"item_id": str})
        insights = model_insights(points, series, season, backtest)
        explained = explainability(insights, grouping)
        made = []
        if "insights" in parts:
            page = insights_page(insights, points, series)
            made.append(("model-insights", "model_insights.json", insights, page))
        if "explainability" in parts:
            made.append(
                ("explainability", "analysis.json", explained, explainability_page(explained))
            )
        for folder, name, content, page in made:
            target = output_dir / "documentation" / folder / candidate / "output"
            target.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(json.dumps(content, indent=1), encoding="utf-8")
            (target / "report.html").write_text(page, encoding="utf-8")
        written[candidate] = insights["metrics"]
    return written
