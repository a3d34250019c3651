"""A tuning job's trials as parallel coordinates: one axis per tuned hyperparameter and one
for the objective, one line per trial, drawn as SVG on the server (no script needed).

uPlot draws x/y series only, so this small layout is written here: numeric axes are
scaled between the smallest and largest value tried (logarithmically where the range
says so), categorical ones spread their values evenly; lines are coloured from the
best objective (green) to the worst (red).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 920, 280
MARGIN_X, TOP, BOTTOM = 70, 24, 36


@dataclass(frozen=True)
class Axis:
    name: str
    x: float
    ticks: list[tuple[float, str]]  # (y, label)


@dataclass(frozen=True)
class Line:
    job: str
    points: str  # SVG polyline points
    colour: str
    best: bool


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _scale(
    values: list[Any], logarithmic: bool
) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """Each value's position in [0, 1] (0 at the bottom) and a few labelled ticks."""
    texts = [str(v) for v in values]
    numbers = [_number(v) for v in values]
    if all(n is not None for n in numbers) and numbers:
        use_log = logarithmic and all(n > 0 for n in numbers)  # type: ignore[operator]
        mapped = [math.log10(n) if use_log else n for n in numbers]  # type: ignore[arg-type]
        low, high = min(mapped), max(mapped)
        if high == low:  # one value tried: the middle of the axis
            return dict.fromkeys(texts, 0.5), [(0.5, f"{numbers[0]:.4g}")]
        positions = {t: (m - low) / (high - low) for t, m in zip(texts, mapped, strict=True)}
        ticks = [(0.0, f"{min(numbers):.4g}"), (1.0, f"{max(numbers):.4g}")]  # type: ignore[type-var]
        return positions, ticks
    distinct = sorted(set(texts))
    step = 1.0 / max(1, len(distinct) - 1)
    positions = {t: (i * step if len(distinct) > 1 else 0.5) for i, t in enumerate(distinct)}
    return positions, [(p, t) for t, p in positions.items()]


def layout(
    trials: list[dict[str, Any]],
    tuned: list[str],
    objective: dict[str, Any],
    scaling: dict[str, str],
    best: str | None,
) -> dict[str, Any] | None:
    """Axes and lines for the trials that have an objective value; None for fewer than two."""
    scored = [
        t
        for t in trials
        if (t.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value") is not None
    ]
    if len(scored) < 2:
        return None
    names = [*tuned, objective.get("MetricName", "objective")]
    columns = [[t.get("TunedHyperParameters", {}).get(h, "") for t in scored] for h in tuned]
    columns.append([t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in scored])
    gap = (WIDTH - 2 * MARGIN_X) / max(1, len(names) - 1)
    height = HEIGHT - TOP - BOTTOM
    axes, positions = [], []
    for index, (name, column) in enumerate(zip(names, columns, strict=True)):
        placed, ticks = _scale(column, scaling.get(name) == "Logarithmic")
        x = MARGIN_X + index * gap
        axes.append(Axis(name, x, [(TOP + (1 - p) * height, label) for p, label in ticks]))
        positions.append(placed)
    values = columns[-1]
    low, high = min(values), max(values)
    minimize = objective.get("Type") == "Minimize"
    lines = []
    for row, trial in enumerate(scored):
        points = " ".join(
            f"{axis.x:.1f},{TOP + (1 - positions[i][str(columns[i][row])]) * height:.1f}"
            for i, axis in enumerate(axes)
        )
        quality = 0.5 if high == low else (values[row] - low) / (high - low)
        goodness = 1 - quality if minimize else quality
        colour = f"hsl({120 * goodness:.0f}, 70%, 40%)"
        lines.append(
            Line(trial["TrainingJobName"], points, colour, trial["TrainingJobName"] == best)
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "axes": axes,
        "lines": lines,
    }
