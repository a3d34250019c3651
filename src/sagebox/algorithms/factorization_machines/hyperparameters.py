"""SageMaker Factorization Machines' hyperparameters: names, defaults and allowed values.

Three parameter groups, ``bias`` (w0), ``linear`` (w) and ``factors`` (V), each have
an initialisation (``<group>_init_method``: ``normal`` with ``_init_sigma``,
``uniform`` in [-``_init_scale``, ``_init_scale``], or ``constant`` ``_init_value``),
a learning rate (``<group>_lr``) and a weight decay (``<group>_wd``). The
optimiser settings ``eps``, ``clip_gradient`` and ``rescale_grad`` default to
Adam's epsilon 1e-8, no clipping and 1 / (rows in the mini-batch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagebox.algorithms.hyperparameters import (
    Categorical,
    Continuous,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
)

PREDICTOR_TYPES = ("binary_classifier", "regressor")
GROUPS = ("bias", "linear", "factors")
INIT_METHODS = ("normal", "uniform", "constant")

GROUP_DEFAULTS: dict[str, dict[str, float]] = {
    "bias": {"init_sigma": 0.01, "lr": 0.1, "wd": 0.01},
    "linear": {"init_sigma": 0.01, "lr": 0.001, "wd": 0.001},
    "factors": {"init_sigma": 0.001, "lr": 0.0001, "wd": 0.00001},
}
"""SageMaker's documented defaults of each group's settings."""


def _group(name: str) -> tuple[Any, ...]:
    defaults = GROUP_DEFAULTS[name]
    return (
        Categorical(f"{name}_init_method", INIT_METHODS, default="normal"),
        Continuous(f"{name}_init_scale", min=0),
        Continuous(f"{name}_init_sigma", default=defaults["init_sigma"], min=0),
        Continuous(f"{name}_init_value"),
        Continuous(f"{name}_lr", default=defaults["lr"], min=0),
        Continuous(f"{name}_wd", default=defaults["wd"], min=0),
    )


def _init_settings_present(values: Mapping[str, Any], given: frozenset[str]) -> None:
    """``uniform`` needs ``<group>_init_scale``; ``constant`` needs ``<group>_init_value``."""
    for group in GROUPS:
        method = values[f"{group}_init_method"]
        needed = {"uniform": "init_scale", "constant": "init_value"}.get(method)
        if needed is not None and values[f"{group}_{needed}"] is None:
            raise HyperparameterError(
                f"{group}_{needed}",
                None,
                "a number" if needed == "init_value" else "a number >= 0",
                reason=f"is required when {group}_init_method is '{method}'",
            )


FM_HYPERPARAMETERS = HyperparameterSpace(
    Integer("feature_dim", min=1, required=True),
    Integer("num_factors", min=1, required=True),
    Categorical("predictor_type", PREDICTOR_TYPES, required=True),
    Integer("epochs", default=1, min=1),
    Integer("mini_batch_size", default=1000, min=1),
    Continuous("clip_gradient", min=0, min_open=True),
    Continuous("eps", min=0, min_open=True),
    Continuous("rescale_grad", min=0, min_open=True),
    *(spec for group in GROUPS for spec in _group(group)),
    rules=(_init_settings_present,),
)
