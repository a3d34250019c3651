"""The lineage of models, endpoints and model packages, as SageMaker records it.

- CreateModel: an artifact for each container's model data (``Model``, its ModelDataUrl)
  and image (``Image``).
- CreateEndpoint: a context for the endpoint (ContextType ``Endpoint``, Source.SourceUri
  the endpoint's ARN, which the SDK finds it by), an action for the model deployment that
  made it (ActionType ``ModelDeployment``) AssociatedWith that context, and for every
  model of the endpoint configuration's variants, its model data, image and model package
  artifacts ContributedTo the deployment. A model trained by a job is the artifact that
  job Produced, so QueryLineage from the endpoint's context, Ascendants, reaches the job's
  trial component and the data sets it was trained on.
- CreateModelPackage: an artifact for the package (``Model``, Source.SourceUri its ARN);
  a context for its group (``ModelGroup``) the package ContributedTo; an approval action
  (``Approval``, Status following ModelApprovalStatus) the package ContributedTo; and the
  model data, image and algorithm artifacts of its containers ContributedTo the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagebox.services.events import ResourceEvent

if TYPE_CHECKING:
    from sagebox.services.lineage.recorder import LineageRecorder

MODEL, IMAGE, ALGORITHM = "Model", "Image", "Algorithm"
ENDPOINT_CONTEXT, MODEL_GROUP_CONTEXT = "Endpoint", "ModelGroup"
MODEL_DEPLOYMENT, APPROVAL = "ModelDeployment", "Approval"
APPROVAL_STATUSES = {
    "PendingManualApproval": "InProgress",
    "Approved": "Completed",
    "Rejected": "Failed",
}
"""The Status of a model package's approval action for each ModelApprovalStatus."""


def model_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    for container in _containers(event.document):
        for uri, artifact_type in _container_inputs(recorder, container):
            recorder.artifact(uri, artifact_type)


def endpoint_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    endpoint = event.name
    source = {"SourceUri": event.arn, "SourceType": "ARN"}
    context = recorder.new_context(
        f"{endpoint}-{{stamp}}-aws-endpoint", {"Source": source, "ContextType": ENDPOINT_CONTEXT}
    )
    deployment = recorder.new_action(
        f"{endpoint}-{{stamp}}-aws-model-deployment",
        {"Source": source, "ActionType": MODEL_DEPLOYMENT, "Status": "Completed"},
    )
    recorder.connect(deployment, context, "AssociatedWith")
    config = recorder.document("EndpointConfig", event.document.get("EndpointConfigName", ""))
    variants = [
        *(config.get("ProductionVariants") or []),
        *(config.get("ShadowProductionVariants") or []),
    ]
    for model_name in dict.fromkeys(v["ModelName"] for v in variants if v.get("ModelName")):
        for container in _containers(recorder.document("Model", model_name)):
            for uri, artifact_type in _container_inputs(recorder, container):
                recorder.connect(recorder.artifact(uri, artifact_type), deployment)
            package = _package_arn(recorder, container)
            if package is not None:
                approval = recorder.existing_action(_approval_name_of(package))
                if approval is not None:
                    recorder.connect(approval, deployment)


def model_package_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    package = event.document
    artifact = recorder.artifact(event.arn, MODEL)
    for container in (package.get("InferenceSpecification") or {}).get("Containers") or []:
        for uri, artifact_type in _container_inputs(recorder, container):
            recorder.connect(recorder.artifact(uri, artifact_type), artifact)
    algorithms = (package.get("SourceAlgorithmSpecification") or {}).get("SourceAlgorithms") or []
    for algorithm in algorithms:
        if algorithm.get("AlgorithmName"):
            recorder.connect(recorder.artifact(algorithm["AlgorithmName"], ALGORITHM), artifact)
        if algorithm.get("ModelDataUrl"):
            recorder.connect(recorder.artifact(algorithm["ModelDataUrl"], MODEL), artifact)
    group = package.get("ModelPackageGroupName")
    if not group:
        return
    group_source = {
        "SourceUri": recorder.arn(f"model-package-group/{group.lower()}"),
        "SourceType": "ARN",
    }
    context = recorder.context(
        f"{group}-aws-model-package-group",
        {"Source": group_source, "ContextType": MODEL_GROUP_CONTEXT},
    )
    recorder.connect(artifact, context)
    approval_status = package.get("ModelApprovalStatus") or "PendingManualApproval"
    approval = recorder.action(
        _approval_name(group, package.get("ModelPackageVersion")),
        {
            "Source": {"SourceUri": event.arn, "SourceType": "ARN"},
            "ActionType": APPROVAL,
            "Status": APPROVAL_STATUSES.get(approval_status, "Unknown"),
            "Properties": {"ModelApprovalStatus": approval_status},
        },
    )
    recorder.connect(artifact, approval)


def model_package_updated(recorder: LineageRecorder, event: ResourceEvent) -> None:
    package = event.document
    group = package.get("ModelPackageGroupName")
    approval_status = package.get("ModelApprovalStatus")
    if not group or not approval_status:
        return
    name = _approval_name(group, package.get("ModelPackageVersion"))
    if recorder.existing_action(name) is not None:
        recorder.actions.set_status(
            name,
            APPROVAL_STATUSES.get(approval_status, "Unknown"),
            {"ModelApprovalStatus": approval_status},
        )


def _containers(model: dict[str, Any]) -> list[dict[str, Any]]:
    if model.get("PrimaryContainer"):
        return [model["PrimaryContainer"]]
    return list(model.get("Containers") or [])


def _container_inputs(
    recorder: LineageRecorder, container: dict[str, Any]
) -> list[tuple[str, str]]:
    """The (source URI, artifact type) pairs of what a container serves."""
    found: list[tuple[str, str]] = []
    data = container.get("ModelDataUrl") or (
        ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
    )
    if data:
        found.append((data, MODEL))
    if container.get("Image"):
        found.append((container["Image"], IMAGE))
    package = _package_arn(recorder, container)
    if package is not None:
        found.append((package, MODEL))
    return found


def _package_arn(recorder: LineageRecorder, container: dict[str, Any]) -> str | None:
    name = container.get("ModelPackageName")
    if not name:
        return None
    return name if name.startswith("arn:") else recorder.arn(f"model-package/{name.lower()}")


def _approval_name(group: str, version: int | None) -> str:
    """The name of the approval action of version `version` of the package group `group`."""
    return f"{group.lower()}-{version or 0}-aws-model-package-approval"


def _approval_name_of(package_arn: str) -> str:
    """The approval action's name of a versioned package ARN (``model-package/<group>/<n>``)."""
    parts = package_arn.split(":", 5)[-1].split("/")
    if len(parts) == 3 and parts[2].isdigit():
        return _approval_name(parts[1], int(parts[2]))
    return ""
