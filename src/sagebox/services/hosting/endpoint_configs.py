"""Endpoint configurations: CreateEndpointConfig / Describe / List / Delete."""

from __future__ import annotations

import copy
from typing import Any

from sagebox.config import Settings
from sagebox.objects import parse_s3_uri
from sagebox.services.errors import ValidationError
from sagebox.services.families import ENDPOINT_CONFIG
from sagebox.services.hosting.models import ModelService
from sagebox.services.resources import RecordService
from sagebox.store import MetadataStore

# SageMaker's serverless memory sizes: 1 to 6 GB in steps of 1 GB.
SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)


class EndpointConfigService(RecordService):
    family = ENDPOINT_CONFIG

    def __init__(self, settings: Settings, store: MetadataStore, models: ModelService) -> None:
        super().__init__(settings, store)
        self._models = models

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        document = {
            k: copy.deepcopy(v)
            for k, v in request.items()
            if k not in ("Tags", "EndpointConfigName") and v is not None
        }
        variants = document["ProductionVariants"]
        shadows = document.get("ShadowProductionVariants") or []
        names = [v["VariantName"] for v in [*variants, *shadows]]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValidationError(f"VariantName '{repeated[0]}' is used by more than one variant.")
        for group, members in (("ProductionVariants", variants), ("ShadowProductionVariants", shadows)):
            for variant in members:
                self._check_variant(group, variant)
        self._check_capture(document.get("DataCaptureConfig"))
        async_config = document.get("AsyncInferenceConfig")
        if async_config:
            self._check_uri("AsyncInferenceConfig.OutputConfig.S3OutputPath", async_config["OutputConfig"].get("S3OutputPath"))
        record = self._insert(request["EndpointConfigName"], document, tags=request.get("Tags"))
        return {"EndpointConfigArn": record.arn}

    def _check_variant(self, group: str, variant: dict[str, Any]) -> None:
        where = f"{group} '{variant['VariantName']}'"
        model = variant.get("ModelName")
        if not model:
            raise ValidationError(
                f"{where}: ModelName is required; sagebox serves a variant from its model "
                "(variants for inference components are not supported)."
            )
        self._models.get(model)
        serverless = variant.get("ServerlessConfig")
        if serverless is None:
            if not variant.get("InitialInstanceCount"):
                raise ValidationError(f"{where}: InitialInstanceCount is required (at least 1) unless ServerlessConfig is given.")
            if not variant.get("InstanceType"):
                raise ValidationError(f"{where}: InstanceType is required unless ServerlessConfig is given.")
        elif variant.get("InitialInstanceCount") or variant.get("InstanceType"):
            raise ValidationError(f"{where}: a serverless variant takes no InitialInstanceCount or InstanceType.")
        else:
            self._check_serverless(where, serverless)
        variant.setdefault("InitialVariantWeight", 1.0)

    @staticmethod
    def _check_serverless(where: str, serverless: dict[str, Any]) -> None:
        memory = serverless["MemorySizeInMB"]
        if memory not in SERVERLESS_MEMORY_SIZES:
            sizes = ", ".join(str(size) for size in SERVERLESS_MEMORY_SIZES)
            raise ValidationError(
                f"{where}: ServerlessConfig.MemorySizeInMB {memory} is not a serverless memory size; "
                f"choose one of {sizes} (1 GB steps)."
            )
        provisioned = serverless.get("ProvisionedConcurrency")
        if provisioned is not None and provisioned > serverless["MaxConcurrency"]:
            raise ValidationError(
                f"{where}: ServerlessConfig.ProvisionedConcurrency {provisioned} cannot exceed "
                f"MaxConcurrency {serverless['MaxConcurrency']}."
            )

    def _check_capture(self, capture: dict[str, Any] | None) -> None:
        if not capture:
            return
        self._check_uri("DataCaptureConfig.DestinationS3Uri", capture.get("DestinationS3Uri"))
        capture.setdefault("EnableCapture", True)
        modes = [option["CaptureMode"] for option in capture.get("CaptureOptions", [])]
        if len(set(modes)) != len(modes):
            raise ValidationError("DataCaptureConfig.CaptureOptions: each CaptureMode may appear once.")

    @staticmethod
    def _check_uri(member: str, uri: str | None) -> None:
        try:
            parse_s3_uri(uri or "")
        except ValueError as exc:
            raise ValidationError(f"{member}: {exc}") from exc

