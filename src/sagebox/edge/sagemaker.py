"""The SageMaker control plane over JSON 1.1.

The standard operations (Create/Describe/List/Update/Delete/Stop<Kind>) are generated
from the family table: each is one call into the family's service, Describe/Delete/Stop
with the resource's name (the member botocore's model says names it), the others with
the whole request. Operations that are not standard verbs are explicit rows. The
coverage script reads `OPERATIONS`, so what is listed here is what sagebox implements.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_service
from sagebox.edge.gate import caller_of
from sagebox.edge.json_service import Handler
from sagebox.edge.sts import identity_of
from sagebox.service_models import service_model
from sagebox.services.callers import acting_as
from sagebox.services.families import FAMILIES, NAMED_VERBS, Family
from sagebox.services.platform import Platform


def _standard(family: Family, verb: str) -> Handler:
    method = verb.lower()
    if verb in NAMED_VERBS:
        member = family.name_member
        return lambda p, r: getattr(p.service(family), method)(r[member])
    return lambda p, r: getattr(p.service(family), method)(r)


def standard_operations() -> dict[str, Handler]:
    """Every family's standard operations; each must exist in botocore's SageMaker model."""
    known = set(service_model("sagemaker").operation_names)
    operations: dict[str, Handler] = {}
    for family in FAMILIES:
        for verb in family.verbs:
            name = family.operation(verb)
            if name not in known:
                raise LookupError(f"{name} (family {family.kind}, verb {verb}) is not a SageMaker operation")
            operations[name] = _standard(family, verb)
    return operations


OPERATIONS: dict[str, Handler] = {
    **standard_operations(),
    "UpdateEndpointWeightsAndCapacities": lambda p, r: p.endpoints.update_weights_and_capacities(r),
    "ListTrainingJobsForHyperParameterTuningJob": lambda p, r: p.tuning.list_trials(r),
    "AddTags": lambda p, r: p.tags.add(r["ResourceArn"], r["Tags"]),
    "ListTags": lambda p, r: p.tags.list(r["ResourceArn"], r.get("MaxResults"), r.get("NextToken")),
    "DeleteTags": lambda p, r: p.tags.delete(r["ResourceArn"], r["TagKeys"]),
    "BatchDescribeModelPackage": lambda p, r: p.model_packages.batch_describe(r["ModelPackageArnList"]),
    "PutModelPackageGroupPolicy": lambda p, r: p.model_package_groups.put_policy(
        r["ModelPackageGroupName"], r["ResourcePolicy"]
    ),
    "GetModelPackageGroupPolicy": lambda p, r: p.model_package_groups.get_policy(r["ModelPackageGroupName"]),
    "DeleteModelPackageGroupPolicy": lambda p, r: p.model_package_groups.delete_policy(r["ModelPackageGroupName"]),
    "DeleteArtifact": lambda p, r: p.artifacts.delete_artifact(r),
    "AddAssociation": lambda p, r: p.associations.add(r),
    "DeleteAssociation": lambda p, r: p.associations.delete(r),
    "QueryLineage": lambda p, r: p.associations.query_lineage(r),
    "AssociateTrialComponent": lambda p, r: p.trial_components.associate(r),
    "DisassociateTrialComponent": lambda p, r: p.trial_components.disassociate(r),
    "Search": lambda p, r: p.search.search(r),
    "DescribePipeline": lambda p, r: p.pipelines.describe_pipeline(r),
    "ListPipelineVersions": lambda p, r: p.pipelines.list_versions(r),
    "UpdatePipelineVersion": lambda p, r: p.pipelines.update_version(r),
    "StartPipelineExecution": lambda p, r: p.pipeline_executions.start(r),
    "RetryPipelineExecution": lambda p, r: p.pipeline_executions.retry(r),
    "ListPipelineExecutionSteps": lambda p, r: p.pipeline_executions.list_steps(r),
    "ListPipelineParametersForExecution": lambda p, r: p.pipeline_executions.list_parameters(r),
    "DescribePipelineDefinitionForExecution": lambda p, r: p.pipeline_executions.describe_definition(r),
    "SendPipelineExecutionStepSuccess": lambda p, r: p.pipeline_executions.callbacks.succeed(r),
    "SendPipelineExecutionStepFailure": lambda p, r: p.pipeline_executions.callbacks.fail(r),
    "StartMonitoringSchedule": lambda p, r: p.monitoring_schedules.start(r["MonitoringScheduleName"]),
    "ListMonitoringExecutions": lambda p, r: p.monitoring_schedules.list_executions(r),
    "CreateAutoMLJobV2": lambda p, r: p.automl.create_v2(r),
    "DescribeAutoMLJobV2": lambda p, r: p.automl.describe_v2(r["AutoMLJobName"]),
    "ListCandidatesForAutoMLJob": lambda p, r: p.automl.list_candidates(r),
    "StartNotebookInstance": lambda p, r: p.notebook_instances.start(r["NotebookInstanceName"]),
    "CreatePresignedNotebookInstanceUrl": lambda p, r: p.notebook_instances.presigned_url(r),
}


async def handle(request: Request, body: bytes, platform: Platform, rid: str) -> Response:
    # The caller's identity, for the CreatedBy / LastModifiedBy members services record.
    with acting_as(identity_of(caller_of(request), platform.settings.account_id)):
        return await json_service.handle("sagemaker", "SageMaker", OPERATIONS, request, body, platform, rid)
