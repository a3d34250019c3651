"""The saved forecasting candidate (``forecast.json``) and its forecasts for new history.

A statistical candidate keeps what it was chosen with: its model, the frequency,
horizon and quantiles, the columns and the transformations of the data. Serving
refits that model on the history the request brings (as Autopilot's forecasting
containers forecast from the history they are sent) and answers the next
``horizon`` steps of every item.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sagebox.analysis.automl.forecasting import Columns, Frequency, forecast, prepare

MODEL_FILE = "forecast.json"


@dataclass(frozen=True)
class ForecastModel:
    model: str
    frequency: str
    horizon: int
    quantiles: tuple[str, ...]
    item: str
    timestamp: str
    target: str
    grouping: tuple[str, ...] = ()
    filling: dict[str, str] = field(default_factory=dict)
    aggregation: str = "sum"
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def columns(self) -> Columns:
        return Columns(self.item, self.timestamp, self.target, self.grouping)

    @property
    def levels(self) -> list[float]:
        return [int(q[1:]) / 100 for q in self.quantiles]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ForecastModel:
        data: dict[str, Any] = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        data["quantiles"] = tuple(data["quantiles"])
        data["grouping"] = tuple(data.get("grouping") or ())
        return cls(**data)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per item and future time step: the item, the timestamp, the quantiles, the mean
        (raises `DataError` for history it cannot read)."""
        frequency = Frequency.parse(self.frequency)
        series = prepare(frame, self.columns, frequency, self.filling, self.aggregation)
        rows = []
        names = {level: name for level, name in zip(self.levels, self.quantiles, strict=True)}
        for key, values in series.items():
            result = forecast(
                self.model, values.to_numpy(float), self.horizon, frequency.season, self.levels
            )
            parts = key.split("|")
            for step, stamp in enumerate(frequency.future(values.index[-1], self.horizon)):
                row: dict[str, Any] = {self.item: parts[0]}
                row.update(dict(zip(self.grouping, parts[1:], strict=True)))
                row[self.timestamp] = stamp.strftime("%Y-%m-%d %H:%M:%S")
                row.update({names[q]: float(result.quantiles[q][step]) for q in self.levels})
                row["mean"] = float(result.mean[step])
                rows.append(row)
        return pd.DataFrame(rows)
