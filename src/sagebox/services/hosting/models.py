"""Models: CreateModel / DescribeModel / ListModels / DeleteModel."""

from __future__ import annotations

import copy
from typing import Any

from sagebox.algorithms.registry import resolve, supported_images
from sagebox.config import Settings
from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import ValidationError
from sagebox.services.families import MODEL
from sagebox.services.hosting.package_containers import resolve_model_packages
from sagebox.services.hosting.script_models import (
    PROGRAM_VARIABLE,
    SCRIPT_HANDLER,
    SUBMIT_DIRECTORY_VARIABLE,
    program_of,
    serving_framework,
)
from sagebox.services.registry.packages import ModelPackageService
from sagebox.services.resources import RecordService
from sagebox.serving.images import AUTOML_REPOSITORY, inference_handler
from sagebox.store import MetadataStore

MAX_PIPELINE_CONTAINERS = 15


def serving_handler(container: dict[str, Any]) -> str:
    """The model server handler for a container: ``script`` for a framework image serving the
    user's inference script (Environment ``SAGEMAKER_PROGRAM``), else a built-in algorithm's name."""
    image = container.get("Image", "")
    framework = serving_framework(container)
    if framework is not None and program_of(container):
        return SCRIPT_HANDLER
    own = inference_handler(image)
    if own is not None:
        return own
    algorithm = resolve(training_image=image) if image else None
    if algorithm is None and framework is not None:
        raise ValidationError(
            f"Image '{image}' is a framework image: it serves the model with your inference script, "
            f"named by Environment {PROGRAM_VARIABLE} (e.g. inference.py), with the code in model.tar.gz "
            f"under code/ or at the s3:// URI in Environment {SUBMIT_DIRECTORY_VARIABLE}; "
            f"Environment has no {PROGRAM_VARIABLE}."
        )
    if algorithm is None:
        raise ValidationError(
            f"Image '{image}' is not an inference image sagebox can serve. Supported: {supported_images()}, "
            f"and Autopilot's '{AUTOML_REPOSITORY}' image."
        )
    return algorithm.serving_module


def containers_of(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's containers in invocation order (one for a single-container model)."""
    if model.get("PrimaryContainer"):
        return [model["PrimaryContainer"]]
    return list(model.get("Containers") or [])


class ModelService(RecordService):
    family = MODEL

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        model_packages: ModelPackageService | None = None,
    ) -> None:
        super().__init__(settings, store)
        self._objects = objects
        self._model_packages = model_packages  # containers may name Model Registry packages

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        if bool(request.get("PrimaryContainer")) == bool(request.get("Containers")):
            raise ValidationError("Exactly one of PrimaryContainer or Containers must be specified.")
        document = {
            k: copy.deepcopy(v)
            for k, v in request.items()
            if k not in ("Tags", "ModelName") and v is not None
        }
        resolve_model_packages(document, self._model_packages)
        primary, containers = document.get("PrimaryContainer"), document.get("Containers")
        if containers and len(containers) > MAX_PIPELINE_CONTAINERS:
            raise ValidationError(
                f"Containers: an inference pipeline has at most {MAX_PIPELINE_CONTAINERS} containers; "
                f"{len(containers)} were given."
            )
        mode = (request.get("InferenceExecutionConfig") or {}).get("Mode", "Serial")
        if containers and len(containers) > 1 and mode != "Serial":
            raise ValidationError(
                f"InferenceExecutionConfig.Mode '{mode}' is not supported by sagebox yet; use Serial."
            )
        for index, container in enumerate(containers_of(document)):
            where = "PrimaryContainer" if primary else f"Containers[{index}]"
            self._check_container(container, where)
            container.setdefault("Mode", "SingleModel")
            container.setdefault("Environment", {})
        if containers:
            document.setdefault("InferenceExecutionConfig", {"Mode": "Serial"})
        document.setdefault("EnableNetworkIsolation", False)
        record = self._insert(request["ModelName"], document, tags=request.get("Tags"))
        return {"ModelArn": record.arn}

    def _check_container(self, container: dict[str, Any], where: str) -> None:
        try:
            serving_handler(container)
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc.message}") from exc
        url = container.get("ModelDataUrl")
        if not url:  # a container may bring its model; one that needs model data fails at deployment
            return
        try:
            bucket, key = parse_s3_uri(url)
        except ValueError as exc:
            raise ValidationError(f"{where}.ModelDataUrl: {exc}") from exc
        problem = "no object there"
        try:
            if key.endswith("/") or not key:
                if next(iter(self._objects.iter_objects(url)), None) is not None:
                    return
            else:
                self._objects.head_object(bucket, key)
                return
        except ObjectStoreError as exc:
            problem = exc.code
        raise ValidationError(
            f"Could not access model data at {url}. Please ensure that the model data exists ({problem})."
        )

