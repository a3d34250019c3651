"""Turning an endpoint configuration into a running Deployment of model servers."""

from __future__ import annotations

import tarfile
import uuid
from pathlib import Path
from typing import Any

from sagebox.algorithms.registry import resolve
from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.runtime.executor import Executor
from sagebox.runtime.venv_cache import VirtualEnvCache
from sagebox.services.hosting.fleet import (
    ContainerPlan,
    Deployment,
    FleetStartError,
    VariantFleet,
    prepare_model,
)
from sagebox.services.hosting.models import containers_of, serving_handler
from sagebox.services.hosting.script_models import (
    SCRIPT_HANDLER,
    ScriptCodeError,
    stage_script_code,
)

# An endpoint's logs live in its folder beside its deployments, which updates and
# deletes remove; CloudWatch keeps a deleted endpoint's log group too.
LOGS_FOLDER = "logs"


def new_deployment(
    executor: Executor,
    objects: ObjectStore,
    folder: Path,
    config: dict[str, Any],
    models: dict[str, dict[str, Any]],
    capacities: dict[str, dict[str, Any]] | None = None,
    venvs: VirtualEnvCache | None = None,
    outlive_server: bool = False,
) -> Deployment:
    """Prepares (but does not start) every variant of `config`.

    `models` maps model names to their documents (a snapshot taken when the endpoint
    was created or updated); `capacities` overrides weights and instance counts set
    since by UpdateEndpointWeightsAndCapacities. `outlive_server`: the model servers live on
    when this API server dies (several servers share the store; another takes them over).
    """
    deployment = Deployment(config["EndpointConfigName"], folder / uuid.uuid4().hex[:8], config)
    capacities = capacities or {}
    for group, target in (
        ("ProductionVariants", deployment.variants),
        ("ShadowProductionVariants", deployment.shadows),
    ):
        for variant in config.get(group) or []:
            name = variant["VariantName"]
            override = capacities.get(name, {})
            plans = _container_plans(
                objects,
                deployment.folder / name,
                folder / LOGS_FOLDER,
                models[variant["ModelName"]],
                name,
                venvs,
            )
            target[name] = VariantFleet(
                name,
                plans,
                executor=executor,
                weight=float(override.get("weight", variant.get("InitialVariantWeight", 1.0))),
                desired_count=int(override.get("count", variant.get("InitialInstanceCount") or 0)),
                serverless=variant.get("ServerlessConfig"),
                instance_type=variant.get("InstanceType"),
                outlive_server=outlive_server,
            )
    return deployment


def _container_plans(
    objects: ObjectStore,
    folder: Path,
    logs: Path,
    model: dict[str, Any],
    variant: str,
    venvs: VirtualEnvCache | None,
) -> list[ContainerPlan]:
    plans = []
    for index, container in enumerate(containers_of(model)):
        base = folder / f"container-{index + 1}"
        handler = serving_handler(container)
        url = container.get("ModelDataUrl")
        if url:
            try:
                prepare_model(objects, url, base / "model")
            except (ObjectStoreError, OSError, ValueError, tarfile.TarError) as exc:
                raise FleetStartError(
                    f"Variant {variant}: could not load the model data at {url}: {exc}"
                ) from exc
        elif handler == SCRIPT_HANDLER:  # the inference script brings (or fetches) its model
            (base / "model").mkdir(parents=True, exist_ok=True)
        else:
            algorithm = resolve(training_image=container.get("Image", ""))
            raise FleetStartError(
                f"Variant {variant}: container {index + 1} (image {container.get('Image', '')}) has no ModelDataUrl, "
                f"and the built-in {algorithm.name if algorithm else handler} algorithm serves a trained model: give the container the S3 URI "
                "of its model.tar.gz in ModelDataUrl."
            )
        environment = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
        try:
            environment.update(stage_script_code(objects, container, base, venvs))
        except ScriptCodeError as exc:
            raise FleetStartError(f"Variant {variant}: {exc}") from exc
        plans.append(
            ContainerPlan(
                handler,
                container.get("Image", ""),
                base,
                environment,
                logs / f"container-{index + 1}",
            )
        )
    return plans


def variant_summaries(
    deployment: Deployment | None, config: dict[str, Any], group: str, resolved_at: float
) -> list[dict[str, Any]]:
    """ProductionVariants / ShadowProductionVariants as DescribeEndpoint shows them."""
    fleets = (
        {}
        if deployment is None
        else (deployment.variants if group == "ProductionVariants" else deployment.shadows)
    )
    summaries = []
    for variant in config.get(group) or []:
        name = variant["VariantName"]
        fleet = fleets.get(name)
        summary: dict[str, Any] = {"VariantName": name}
        if fleet is not None:
            images = {plan.image for plan in fleet.containers}
            summary["DeployedImages"] = [
                {"SpecifiedImage": image, "ResolvedImage": image, "ResolutionTime": resolved_at}
                for image in sorted(images)
            ]
            summary["CurrentWeight"] = summary["DesiredWeight"] = fleet.weight
            if fleet.serverless is not None:
                summary["CurrentServerlessConfig"] = summary["DesiredServerlessConfig"] = (
                    fleet.serverless
                )
            else:
                summary["CurrentInstanceCount"] = len(fleet.healthy_instances())
                summary["DesiredInstanceCount"] = fleet.desired_count
        summaries.append(summary)
    return summaries
