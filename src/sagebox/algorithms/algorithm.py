"""``AlgorithmSpec``: how the platform recognises, validates and runs a built-in algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.hyperparameters import HyperparameterSpace


@dataclass(frozen=True)
class AlgorithmSpec:
    """A built-in algorithm: how to recognise it, run it and validate a job for it."""

    name: str
    image_repositories: tuple[str, ...]
    entry_module: str
    """Run as ``python -m <entry_module>`` inside the job's folder."""
    serving_module: str
    """The model server's handler of its models (``python -m sagebox.serving --handler <it>``)."""
    hyperparameters: HyperparameterSpace
    metric_definitions: tuple[dict[str, str], ...]
    channels: tuple[str, ...]
    required_channels: tuple[str, ...]
    content_types: tuple[str, ...]
    default_content_type: str

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, object]:
        """Typed hyperparameters with defaults filled; raises ``HyperparameterError``."""
        return self.hyperparameters.validate(raw)
