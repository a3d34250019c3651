"""Built-in algorithms: pure ML code run inside training jobs.

Nothing here imports the platform. The platform finds an algorithm with
``registry.resolve`` and runs its ``entry_module`` as the job's process.
"""

from sagebox.algorithms.hyperparameters import HyperparameterError, HyperparameterSpace
from sagebox.algorithms.registry import AlgorithmSpec, image_version, resolve

__all__ = [
    "AlgorithmSpec",
    "HyperparameterError",
    "HyperparameterSpace",
    "image_version",
    "resolve",
]
