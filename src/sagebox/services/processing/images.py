"""Amazon's processing images that sagebox runs with its own implementation.

A processing job on one of SageMaker's own images (Clarify, the Model Monitor analyzer)
gives no ContainerEntrypoint: the image's ENTRYPOINT does the work. sagebox recognises
those images by repository name, whatever the registry host and tag (as it recognises
the built-in algorithms' images), and runs the module that implements them with this
machine's Python, with the same inputs, outputs and configuration files.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagebox.algorithms.registry import split_image


@dataclass(frozen=True)
class ProcessingImage:
    name: str
    repositories: tuple[str, ...]
    """The image repositories it answers to (the last path segment of the URI, before the tag)."""
    entry_module: str
    """Run as ``python3 -m <entry_module>`` (then the job's ContainerArguments) in the job folder."""


# One row per image; the analyses themselves live in sagebox/analysis/.
PROCESSING_IMAGES: tuple[ProcessingImage, ...] = (
    # SageMaker Clarify: bias metrics, SHAP and partial dependence (image_uris.retrieve("clarify", region)).
    ProcessingImage("clarify", ("sagemaker-clarify-processing",), "sagebox.analysis.clarify"),
    # image_uris.retrieve("model-monitor", region): every region's account serves this repository
    ProcessingImage("Model Monitor analyzer", ("sagemaker-model-monitor-analyzer",), "sagebox.analysis.model_monitor"),
    # Autopilot's own image: an AutoML job's data analysis and feature engineering steps.
    ProcessingImage("Autopilot", ("sagemaker-sklearn-automl",), "sagebox.analysis.automl"),
)


def builtin_processing_image(image_uri: str | None) -> ProcessingImage | None:
    """The SageMaker processing image an image URI names, if sagebox implements it."""
    if not image_uri:
        return None
    repository = split_image(image_uri)[0]
    return next((image for image in PROCESSING_IMAGES if repository in image.repositories), None)


def default_entrypoint(image_uri: str | None) -> tuple[str, ...] | None:
    """The command that stands for the image's ENTRYPOINT, for an image sagebox implements."""
    image = builtin_processing_image(image_uri)
    return ("python3", "-m", image.entry_module) if image is not None else None
