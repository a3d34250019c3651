"""Summaries folded batch by batch equal the statistics of the whole series."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest

from sagebox.services.experiments.metric_summaries import fold, forget
from sagebox.store import MetricPoint


def test_batches_fold_into_the_statistics_of_the_whole_series() -> None:
    rng = random.Random(11)
    values = [rng.gauss(5.0, 3.0) for _ in range(1_000)]
    points = [MetricPoint("loss", 1_000.0 + i // 7, value, i) for i, value in enumerate(values)]
    document: dict[str, Any] = {}
    for first in range(0, len(points), 10):
        fold(document, points[first : first + 10], "arn:aws:sagemaker:us-east-1:0:training-job/j")
    [summary] = document["Metrics"]
    assert summary["MetricName"] == "loss" and summary["SourceArn"].endswith(":training-job/j")
    assert summary["Count"] == 1_000
    assert (summary["Min"], summary["Max"]) == (min(values), max(values))
    assert summary["Avg"] == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert summary["StdDev"] == pytest.approx(statistics.stdev(values), rel=1e-10)
    # Points logged in the same second: the one logged last is Last.
    assert (summary["Last"], summary["TimeStamp"]) == (values[-1], points[-1].timestamp)


def test_an_older_point_does_not_become_last_and_one_point_has_no_spread() -> None:
    document: dict[str, Any] = {}
    fold(document, [MetricPoint("acc", 10.0, 0.9)], None)
    assert document["Metrics"][0]["StdDev"] == 0.0 and "SourceArn" not in document["Metrics"][0]
    fold(document, [MetricPoint("acc", 5.0, 0.1)], None)
    summary = document["Metrics"][0]
    assert (summary["Last"], summary["TimeStamp"], summary["Min"], summary["Count"]) == (0.9, 10.0, 0.1, 2)
    forget(document, ["acc"])
    assert document["Metrics"] == [] and document["_sagebox"]["metric_moments"] == {}
