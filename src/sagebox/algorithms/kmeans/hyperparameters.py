"""SageMaker K-Means' hyperparameters: names, defaults and allowed values.

``k`` and ``feature_dim`` are required. ``extra_center_factor`` and
``local_lloyd_num_trials`` take a positive integer or ``auto`` (SageMaker does not
say what ``auto`` picks; here ``min(20, 10000 // k)`` and 10 trials); ``eval_metrics`` is
a JSON list (``["msd"]``, ``["ssd"]`` or ``["msd", "ssd"]``; a bare ``msd,ssd`` is
read too). ``force_dense`` is what the SageMaker Python SDK always sends
(``"True"``); rows are always clustered as dense vectors here, so it changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    CategoricalList,
    Continuous,
    Hyperparameter,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
)

AUTO = "auto"
RANDOM = "random"
KMEANS_PLUS_PLUS = "kmeans++"
INIT_METHODS = (RANDOM, KMEANS_PLUS_PLUS)
EVAL_METRICS = ("msd", "ssd")

AUTO_EXTRA_CENTER_FACTOR = 20
"""``extra_center_factor=auto``: 20 working centres per cluster, ..."""
AUTO_MAX_CENTERS = 10_000
"""... but at most 10,000 working centres in all (``k`` itself may be more)."""
AUTO_LOCAL_LLOYD_NUM_TRIALS = 10
"""``local_lloyd_num_trials=auto``: Lloyd runs on K weighted centres only, so trials are cheap."""


def auto_extra_center_factor(k: int) -> int:
    """What ``extra_center_factor=auto`` means for ``k`` clusters: ``min(20, 10000 // k)``, at
    least 1. More working centres make the final reduction to ``k`` more accurate; the
    cap bounds the memory and the time each mini-batch takes."""
    return max(1, min(AUTO_EXTRA_CENTER_FACTOR, AUTO_MAX_CENTERS // k))


@dataclass(frozen=True)
class PositiveIntegerOrAuto(Hyperparameter):
    """A positive integer, or ``auto`` (the algorithm chooses)."""

    name: str
    default: int | str | None = AUTO
    required: bool = False

    def parse(self, text: str) -> int | str:
        if text.strip().lower() == AUTO:
            return AUTO
        try:
            return Integer(self.name, min=1).parse(text)
        except HyperparameterError:
            raise self.reject(text) from None

    def allowed(self) -> str:
        return "a positive integer or 'auto'"


def _metrics_are_distinct(values: Mapping[str, Any], given: frozenset[str]) -> None:
    metrics = values["eval_metrics"]
    if len(set(metrics)) != len(metrics):
        raise HyperparameterError(
            "eval_metrics",
            ",".join(metrics),
            "each of 'msd', 'ssd' at most once, e.g. [\"msd\", \"ssd\"]",
            reason="names a metric twice",
        )


KMEANS_HYPERPARAMETERS = HyperparameterSpace(
    Integer("feature_dim", min=1, required=True),
    Integer("k", min=1, required=True),
    Integer("epochs", default=1, min=1),
    CategoricalList("eval_metrics", values=EVAL_METRICS, default=("msd",)),
    PositiveIntegerOrAuto("extra_center_factor"),
    Integer("half_life_time_size", default=0, min=0),
    Categorical("init_method", values=INIT_METHODS, default=RANDOM),
    Categorical("local_lloyd_init_method", values=INIT_METHODS, default=KMEANS_PLUS_PLUS),
    Integer("local_lloyd_max_iter", default=300, min=1),
    PositiveIntegerOrAuto("local_lloyd_num_trials"),
    Continuous("local_lloyd_tol", default=0.0001, min=0.0, max=1.0),
    Integer("mini_batch_size", default=5000, min=1),
    Boolean("force_dense", default=True),
    rules=(_metrics_are_distinct,),
)
