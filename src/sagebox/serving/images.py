"""Inference-only images sagebox serves with its own handler (no training algorithm behind them).

Recognised by repository name, whatever the registry host and tag, as the built-in
algorithms' images are (`algorithms/registry.py`).
"""

from __future__ import annotations

from sagebox.algorithms.registry import split_image

AUTOML_REPOSITORY = "sagemaker-sklearn-automl"
INFERENCE_IMAGES: dict[str, str] = {
    # Autopilot's preprocessing and label containers (the first and last of a candidate's pipeline).
    AUTOML_REPOSITORY: "sagebox.serving.handlers.automl",
}


def inference_handler(image_uri: str) -> str | None:
    """The handler module serving an inference-only image, if sagebox has one."""
    return INFERENCE_IMAGES.get(split_image(image_uri)[0]) if image_uri else None
