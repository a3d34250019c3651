"""SageMaker PCA's hyperparameters: names, defaults and allowed values.

``feature_dim``, ``mini_batch_size`` and ``num_components`` are required (the
SageMaker Python SDK always sets ``mini_batch_size``). ``extra_components`` is
``-1`` (meaning ``max(10, num_components)``) or a non-negative integer and only
matters in ``randomized`` mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagebox.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
)

REGULAR = "regular"
RANDOMIZED = "randomized"
MODES = (REGULAR, RANDOMIZED)


def _components_fit_the_features(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if values["num_components"] > values["feature_dim"]:
        raise HyperparameterError(
            "num_components",
            str(values["num_components"]),
            f"an integer <= feature_dim ({values['feature_dim']})",
            reason=(
                f"value '{values['num_components']}' is more components than the "
                f"{values['feature_dim']} input features have"
            ),
        )


PCA_HYPERPARAMETERS = HyperparameterSpace(
    Integer("feature_dim", min=1, required=True),
    Integer("mini_batch_size", min=1, required=True),
    Integer("num_components", min=1, required=True),
    Categorical("algorithm_mode", values=MODES, default=REGULAR),
    Integer("extra_components", default=-1, min=-1),
    Boolean("subtract_mean", default=True),
    rules=(_components_fit_the_features,),
)
