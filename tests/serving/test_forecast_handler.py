"""The Autopilot time-series handler on its own: history CSV in, forecasts per item out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from sagebox.analysis.automl.forecast_model import ForecastModel
from sagebox.serving.errors import BadRequest, ModelLoadError, NoContent
from sagebox.serving.handlers import load_handler

HANDLER = "sagebox.serving.handlers.forecast"
HISTORY = "city,when,kwh,region,extra\n" + "".join(
    f"{city},2024-03-{day:02d} {hour:02d}:00,{10 + hour % 4 + (5 if city == 'b' else 0)},r1,z\n"
    for city in ("a", "b")
    for day in (1, 2)
    for hour in range(24)
)


@pytest.fixture()
def handler(tmp_path: Path):  # noqa: ANN201 - the handler's class is the module's own
    ForecastModel(
        model="seasonal-naive", frequency="H", horizon=3, quantiles=("p10", "p90"),
        item="city", timestamp="when", target="kwh", grouping=("region",),
    ).save(tmp_path)  # fmt: skip
    return load_handler(HANDLER, tmp_path)


def test_forecasts_each_item_in_csv_json_and_json_lines(handler) -> None:  # noqa: ANN001
    body, content_type = handler.predict(HISTORY.encode(), "text/csv", "")
    frame = pd.read_csv(io.BytesIO(body))
    assert content_type.startswith("text/csv")
    assert list(frame.columns) == ["city", "region", "when", "p10", "p90", "mean"]
    assert frame["when"].tolist()[:3] == [f"2024-03-03 0{h}:00:00" for h in range(3)]
    # seasonal naive over 24 hours: the first hours of the last day again
    assert frame["mean"].tolist() == [10.0, 11.0, 12.0, 15.0, 16.0, 17.0]
    assert (frame["p10"] <= frame["p90"]).all()
    body, content_type = handler.predict(HISTORY.encode(), "text/csv", "application/json")
    assert len(json.loads(body)["predictions"]) == 6 and content_type == "application/json"
    body, _ = handler.predict(HISTORY.encode(), "text/csv", "application/jsonlines")
    assert [json.loads(line)["city"] for line in body.decode().splitlines()] == ["a"] * 3 + [
        "b"
    ] * 3


def test_bad_history_is_a_client_error(handler, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(NoContent):
        handler.predict(b"  ", "text/csv", "")
    with pytest.raises(BadRequest, match="header row naming the columns city, when, kwh, region"):
        handler.predict(b"a,2024-03-01,1,r1\n", "text/csv", "")
    with pytest.raises(BadRequest, match="cannot be read as timestamps"):
        handler.predict(b"city,when,kwh,region\na,yesterday,1,r1\n", "text/csv", "")
    with pytest.raises(ModelLoadError, match="forecast.json"):
        load_handler(HANDLER, tmp_path / "empty")
