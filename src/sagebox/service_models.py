"""botocore's own service models: the spec of every request and response shape."""

from __future__ import annotations

from functools import cache

import botocore.loaders
import botocore.model


@cache
def service_model(name: str) -> botocore.model.ServiceModel:
    """The botocore service model for `name` (e.g. "sagemaker", "s3", "sts")."""
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(loader.load_service_model(name, "service-2"), name)


def operation_model(service: str, operation: str) -> botocore.model.OperationModel | None:
    model = service_model(service)
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation)
