"""Metric lines as SageMaker's own algorithms print them, and the regexes that read them.

A quality metric names the channel, the metric and whether it is a loss or a score::

    #quality_metric: host=algo-1, epoch=3, validation objective_loss <loss>=0.2711
    #quality_metric: host=algo-1, test msd <loss>=1.842
    #progress_metric: host=algo-1, completed 40 % of epochs

``metric_definition("test:msd")`` is the MetricDefinitions entry a training job (and
a tuning job's objective) uses to read the value back from the log.
"""

from __future__ import annotations

import math
import sys
from typing import Literal

Kind = Literal["loss", "score"]

PROGRESS_DEFINITION = {
    "Name": "train:progress",
    "Regex": r"#progress_metric: host=\S+, completed (\S+) %",
}


def metric_definition(name: str, kind: Kind = "loss") -> dict[str, str]:
    """``{"Name": "test:msd", "Regex": ...}`` for a ``channel:metric`` name."""
    channel, _, metric = name.partition(":")
    if not channel or not metric:
        raise ValueError(f"metric name '{name}' is not of the form channel:metric")
    return {
        "Name": name,
        "Regex": rf"#quality_metric: host=\S+, (?:\S+=\S+, )*{channel} {metric} <{kind}>=(\S+)",
    }


def format_value(value: float) -> str:
    """A metric value as printed: shortest round-tripping float, ``nan``/``inf`` spelled out."""
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


class MetricReporter:
    """Prints metric lines for one host on stdout, where the platform reads them."""

    def __init__(self, host: str = "algo-1", stream=None) -> None:  # noqa: ANN001 - a text stream
        self.host = host
        self.stream = stream

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def quality(
        self,
        channel: str,
        metric: str,
        value: float,
        *,
        kind: Kind = "loss",
        epoch: int | None = None,
    ) -> None:
        """``#quality_metric: host=algo-1[, epoch=N], <channel> <metric> <kind>=<value>``."""
        where = f"host={self.host}" + (f", epoch={epoch}" if epoch is not None else "")
        self._write(f"#quality_metric: {where}, {channel} {metric} <{kind}>={format_value(value)}")

    def progress(self, percent: float) -> None:
        """``#progress_metric: host=algo-1, completed <percent> % of epochs``."""
        self._write(
            f"#progress_metric: host={self.host}, completed {format_value(round(percent, 2))} "
            "% of epochs"
        )
