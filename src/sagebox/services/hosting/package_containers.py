"""CreateModel's containers that name a model package, resolved into what is served.

``Containers=[{"ModelPackageName": arn}]`` (or a PrimaryContainer naming one) deploys a
model package from the Model Registry: the package's InferenceSpecification (or, with
InferenceSpecificationName, one of its AdditionalInferenceSpecifications) gives the
image, the model data and the environment. They are resolved once, when the model is
created, into ordinary containers that keep their ModelPackageName; endpoints and batch
transform then serve them like any other container. The container's own Environment
overrides the package's. A package with several containers expands into an inference
pipeline of those containers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagebox.services.errors import ValidationError

if TYPE_CHECKING:
    from sagebox.services.registry.packages import ModelPackageService

_FROM_PACKAGE = ("Image", "ModelDataUrl", "ModelDataSource")


def resolve_model_packages(document: dict[str, Any], packages: ModelPackageService | None) -> None:
    """Replaces, in a CreateModel document, each container naming a model package by its containers."""
    primary = document.get("PrimaryContainer")
    containers = [primary] if primary else list(document.get("Containers") or [])
    if not any(container.get("ModelPackageName") for container in containers):
        return
    if packages is None:
        raise ValidationError("This sagebox server has no Model Registry to resolve ModelPackageName.")
    resolved: list[dict[str, Any]] = []
    for index, container in enumerate(containers):
        where = "PrimaryContainer" if primary else f"Containers[{index}]"
        if container.get("ModelPackageName"):
            resolved.extend(_package_containers(container, where, packages))
        else:
            resolved.append(container)
    if primary and len(resolved) == 1:
        document["PrimaryContainer"] = resolved[0]
    else:
        document.pop("PrimaryContainer", None)
        document["Containers"] = resolved


def _package_containers(container: dict[str, Any], where: str, packages: ModelPackageService) -> list[dict[str, Any]]:
    for member in _FROM_PACKAGE:
        if container.get(member):
            raise ValidationError(
                f"{where}: {member} cannot be given with ModelPackageName; the model package's "
                "inference specification provides the image and the model data."
            )
    try:
        _, package_containers = packages.deployable(
            container["ModelPackageName"], container.get("InferenceSpecificationName")
        )
    except ValidationError as exc:
        raise ValidationError(f"{where}.ModelPackageName: {exc.message}") from exc
    expanded = len(package_containers) > 1
    served = []
    for package_container in package_containers:
        serving = {key: value for key, value in container.items() if key != "Environment"}
        for member in _FROM_PACKAGE:
            if package_container.get(member):
                serving[member] = package_container[member]
        serving["Environment"] = {**(package_container.get("Environment") or {}), **(container.get("Environment") or {})}
        if expanded or "ContainerHostname" not in container:
            serving.pop("ContainerHostname", None)
            if package_container.get("ContainerHostname"):
                serving["ContainerHostname"] = package_container["ContainerHostname"]
        served.append(serving)
    return served
