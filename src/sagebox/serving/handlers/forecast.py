"""Serving an Autopilot time-series candidate: history rows in, forecasts per item out.

The request is CSV with a header row naming the training data's columns (item id,
timestamp, target and any grouping columns; other columns are ignored), the history of
one or more items. The model refits its statistical model on each item's history and
answers the next ``ForecastHorizon`` steps: one row per item and step with the item id,
the grouping values, the timestamp, one column per forecast quantile (``p10``, ``p50``,
``p90`` by default) and ``mean``. ``text/csv`` (default, with a header) or
``application/json`` (``{"predictions": [{...}, ...]}``) or ``application/jsonlines``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from sagebox.analysis.automl.forecast_model import MODEL_FILE, ForecastModel
from sagebox.analysis.automl.problems import DataError
from sagebox.serving import media
from sagebox.serving.errors import BadRequest, ModelLoadError, NoContent

ACCEPTS = (media.CSV, media.JSON, media.JSONLINES)
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"


def load(model_dir: Path) -> ForecastHandler:
    if not (model_dir / MODEL_FILE).is_file():
        raise ModelLoadError(
            f"no Autopilot forecasting model in the model folder: expected {MODEL_FILE}"
        )
    try:
        return ForecastHandler(ForecastModel.load(model_dir))
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelLoadError(f"{MODEL_FILE} cannot be loaded: {exc}") from None


class ForecastHandler:
    def __init__(self, model: ForecastModel) -> None:
        self.model = model

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        media.content_type(content_type, (media.CSV,), media.CSV)
        response = media.negotiate(accept, ACCEPTS, media.CSV)
        if not body.strip():
            raise NoContent()
        try:
            frame = pd.read_csv(io.BytesIO(body), dtype=str, skipinitialspace=True)
        except (ValueError, pd.errors.ParserError) as exc:
            raise BadRequest(f"The history is not CSV: {exc}") from None
        needed = self.model.columns.required()
        if not set(needed) <= set(frame.columns):
            raise BadRequest(
                f"The history must be CSV with a header row naming the columns "
                f"{', '.join(needed)}; the header row given is {', '.join(map(str, frame.columns))}."
            )
        try:
            forecasts = self.model.predict(frame)
        except DataError as exc:
            raise BadRequest(str(exc)) from None
        if response == media.JSON:
            records = forecasts.to_dict(orient="records")
            return json.dumps({"predictions": records}).encode(), media.JSON
        if response == media.JSONLINES:
            lines = forecasts.to_json(orient="records", lines=True)
            return (lines if lines.endswith("\n") else lines + "\n").encode(), media.JSONLINES
        return forecasts.to_csv(index=False).encode(), CSV_RESPONSE_TYPE
