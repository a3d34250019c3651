"""SageMaker k-NN's hyperparameters: names, defaults and allowed values.

Required, as in SageMaker: ``feature_dim``, ``k``, ``predictor_type`` and
``sample_size``. ``dimension_reduction_target`` is required once
``dimension_reduction_type`` is set and must be below ``feature_dim``.
``faiss_index_ivf_nlists`` is ``auto`` (``sqrt`` of the number of sampled points)
or a positive integer; ``faiss_index_pq_m`` is one of the sub-quantizer counts faiss
supports. ``faiss.IVFPQ`` indexes measure L2 distance only, so ``INNER_PRODUCT`` and
``COSINE`` are refused with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.hyperparameters import (
    Categorical,
    Hyperparameter,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
)

AUTO = "auto"
CLASSIFIER = "classifier"
REGRESSOR = "regressor"
PREDICTOR_TYPES = (CLASSIFIER, REGRESSOR)
REDUCTION_TYPES = ("sign", "fjlt")
FLAT = "faiss.Flat"
IVF_FLAT = "faiss.IVFFlat"
IVF_PQ = "faiss.IVFPQ"
INDEX_TYPES = (FLAT, IVF_FLAT, IVF_PQ)
L2 = "L2"
INNER_PRODUCT = "INNER_PRODUCT"
COSINE = "COSINE"
INDEX_METRICS = (L2, INNER_PRODUCT, COSINE)
PQ_M_VALUES = (1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96)


def _integer(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


@dataclass(frozen=True)
class IntegerOrAuto(Hyperparameter):
    """``auto`` (kept as the string) or an integer at least ``min``."""

    name: str
    default: int | str | None = AUTO
    min: int = 1
    required: bool = False

    def parse(self, text: str) -> int | str:
        if text.lower() == AUTO:
            return AUTO
        value = _integer(text)
        if value is None or value < self.min:
            raise self.reject(text)
        return value

    def allowed(self) -> str:
        return f"'{AUTO}' or an integer >= {self.min}"


@dataclass(frozen=True)
class IntegerChoice(Hyperparameter):
    """An integer from a fixed set of values."""

    name: str
    values: tuple[int, ...]
    default: int | None = None
    required: bool = False

    def parse(self, text: str) -> int:
        value = _integer(text)
        if value is None or value not in self.values:
            raise self.reject(text)
        return value

    def allowed(self) -> str:
        return "one of " + ", ".join(str(value) for value in self.values)


def _reduction_needs_target(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if (
        values["dimension_reduction_type"] is not None
        and values["dimension_reduction_target"] is None
    ):
        raise HyperparameterError(
            "dimension_reduction_target",
            None,
            f"an integer >= 1 and < feature_dim ({values['feature_dim']})",
            reason=(
                "is required when dimension_reduction_type is set "
                f"(to '{values['dimension_reduction_type']}')"
            ),
        )


def _target_below_feature_dim(values: Mapping[str, Any], given: frozenset[str]) -> None:
    target = values["dimension_reduction_target"]
    if values["dimension_reduction_type"] is None or target is None:
        return
    if target >= values["feature_dim"]:
        raise HyperparameterError(
            "dimension_reduction_target",
            str(target),
            f"an integer >= 1 and < feature_dim ({values['feature_dim']})",
            reason=f"value '{target}' is not below feature_dim ({values['feature_dim']})",
        )


def _pq_measures_l2_only(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if values["index_type"] == IVF_PQ and values["index_metric"] != L2:
        raise HyperparameterError(
            "index_metric",
            values["index_metric"],
            f"'{L2}' with index_type '{IVF_PQ}'",
            reason=f"value '{values['index_metric']}' is not supported by index_type '{IVF_PQ}'",
        )


def _k_within_sample(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if values["k"] > values["sample_size"]:
        raise HyperparameterError(
            "k",
            str(values["k"]),
            f"an integer >= 1 and <= sample_size ({values['sample_size']})",
            reason=f"value '{values['k']}' is more neighbors than sample_size keeps points",
        )


KNN_HYPERPARAMETERS = HyperparameterSpace(
    Integer("feature_dim", min=1, required=True),
    Integer("k", min=1, required=True),
    Categorical("predictor_type", PREDICTOR_TYPES, required=True),
    Integer("sample_size", min=1, required=True),
    Categorical("dimension_reduction_type", REDUCTION_TYPES),
    Integer("dimension_reduction_target", min=1),
    Categorical("index_type", INDEX_TYPES, default=FLAT),
    Categorical("index_metric", INDEX_METRICS, default=L2),
    IntegerOrAuto("faiss_index_ivf_nlists", default=AUTO),
    IntegerChoice("faiss_index_pq_m", PQ_M_VALUES),
    Integer("mini_batch_size", default=5000, min=1),
    rules=(
        _reduction_needs_target,
        _target_below_feature_dim,
        _pq_measures_l2_only,
        _k_within_sample,
    ),
)
