"""Built-in algorithms: pure ML code run inside training jobs.

Nothing here imports the platform. The platform finds an algorithm with
``registry.resolve`` and runs its ``entry_module`` as the job's process.

The names below are imported on first use: a job or model server process imports
this package on its way to one algorithm, and should not pay for declaring all of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagebox.algorithms.hyperparameters import HyperparameterError, HyperparameterSpace
    from sagebox.algorithms.registry import AlgorithmSpec, image_version, resolve

_EXPORTS = {
    "AlgorithmSpec": "sagebox.algorithms.registry",
    "HyperparameterError": "sagebox.algorithms.hyperparameters",
    "HyperparameterSpace": "sagebox.algorithms.hyperparameters",
    "image_version": "sagebox.algorithms.registry",
    "resolve": "sagebox.algorithms.registry",
}

__all__ = [
    "AlgorithmSpec",
    "HyperparameterError",
    "HyperparameterSpace",
    "image_version",
    "resolve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
