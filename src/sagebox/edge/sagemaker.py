"""The SageMaker control plane over JSON 1.1."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_service
from sagebox.edge.json_service import Handler
from sagebox.services.platform import Platform

# Operation name -> handler. Each handler is one line into the services layer; the
# coverage script reads this table, so what is listed here is what sagebox implements.
OPERATIONS: dict[str, Handler] = {
    "CreateTrainingJob": lambda p, r: p.training.create(r),
    "DescribeTrainingJob": lambda p, r: p.training.describe(r["TrainingJobName"]),
    "ListTrainingJobs": lambda p, r: p.training.list(r),
    "StopTrainingJob": lambda p, r: p.training.stop(r["TrainingJobName"]),
    "CreateModel": lambda p, r: p.models.create(r),
    "DescribeModel": lambda p, r: p.models.describe(r["ModelName"]),
    "ListModels": lambda p, r: p.models.list(r),
    "DeleteModel": lambda p, r: p.models.delete(r["ModelName"]),
    "CreateEndpointConfig": lambda p, r: p.endpoint_configs.create(r),
    "DescribeEndpointConfig": lambda p, r: p.endpoint_configs.describe(r["EndpointConfigName"]),
    "ListEndpointConfigs": lambda p, r: p.endpoint_configs.list(r),
    "DeleteEndpointConfig": lambda p, r: p.endpoint_configs.delete(r["EndpointConfigName"]),
    "CreateEndpoint": lambda p, r: p.endpoints.create(r),
    "DescribeEndpoint": lambda p, r: p.endpoints.describe(r["EndpointName"]),
    "ListEndpoints": lambda p, r: p.endpoints.list(r),
    "UpdateEndpoint": lambda p, r: p.endpoints.update(r),
    "UpdateEndpointWeightsAndCapacities": lambda p, r: p.endpoints.update_weights_and_capacities(r),
    "DeleteEndpoint": lambda p, r: p.endpoints.delete(r["EndpointName"]),
    "CreateTransformJob": lambda p, r: p.transform.create(r),
    "DescribeTransformJob": lambda p, r: p.transform.describe(r["TransformJobName"]),
    "ListTransformJobs": lambda p, r: p.transform.list(r),
    "StopTransformJob": lambda p, r: p.transform.stop(r["TransformJobName"]),
    "CreateProcessingJob": lambda p, r: p.processing.create(r),
    "DescribeProcessingJob": lambda p, r: p.processing.describe(r["ProcessingJobName"]),
    "ListProcessingJobs": lambda p, r: p.processing.list(r),
    "StopProcessingJob": lambda p, r: p.processing.stop(r["ProcessingJobName"]),
    "DeleteProcessingJob": lambda p, r: p.processing.delete(r["ProcessingJobName"]),
    "CreateHyperParameterTuningJob": lambda p, r: p.tuning.create(r),
    "DescribeHyperParameterTuningJob": lambda p, r: p.tuning.describe(r["HyperParameterTuningJobName"]),
    "ListHyperParameterTuningJobs": lambda p, r: p.tuning.list(r),
    "StopHyperParameterTuningJob": lambda p, r: p.tuning.stop(r["HyperParameterTuningJobName"]),
    "ListTrainingJobsForHyperParameterTuningJob": lambda p, r: p.tuning.list_trials(r),
    "AddTags": lambda p, r: p.tags.add(r["ResourceArn"], r["Tags"]),
    "ListTags": lambda p, r: p.tags.list(r["ResourceArn"], r.get("MaxResults"), r.get("NextToken")),
    "DeleteTags": lambda p, r: p.tags.delete(r["ResourceArn"], r["TagKeys"]),
}


async def handle(request: Request, body: bytes, platform: Platform, rid: str) -> Response:
    return await json_service.handle("sagemaker", "SageMaker", OPERATIONS, request, body, platform, rid)
