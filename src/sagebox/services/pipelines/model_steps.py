"""Model steps (CreateModel) and RegisterModel steps (CreateModelPackage), done as they start.

A ModelStep of the SDK is one of these (``<name>-CreateModel``, ``<name>-RegisterModel``),
sometimes after a repack training step. The model is named by the pipeline; a model
package is numbered by its group (an unversioned one is named by the pipeline). Their
properties are the Describe answers, kept in the step's record. As on SageMaker, a
RegisterModel step makes the model package group it names if there is none yet.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.hosting.models import ModelService
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Scope
from sagebox.services.pipelines.step_kinds import SUCCEEDED, Progress, Started, StepContext
from sagebox.services.registry.groups import ModelPackageGroupService
from sagebox.services.registry.packages import ModelPackageService


@dataclass(frozen=True)
class ModelStepKind:
    models: ModelService
    job_kind: str = "Model"

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        request = copy.deepcopy(arguments) if isinstance(arguments, dict) else {}
        request["ModelName"] = job_name
        if context.role_arn and not request.get("ExecutionRoleArn"):
            request["ExecutionRoleArn"] = context.role_arn
        arn = self.models.create(request)["ModelArn"]
        described = self.models.describe(str(job_name))
        return Started(SUCCEEDED, {"Model": {"Arn": arn}}, properties=described)

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        return Progress(record.get("StepStatus", SUCCEEDED))

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        return False

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record["_sagebox"].get("properties") or {}


@dataclass(frozen=True)
class RegisterModelStepKind:
    model_packages: ModelPackageService
    model_package_groups: ModelPackageGroupService
    job_kind: str = "ModelPackage"

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        request = copy.deepcopy(arguments) if isinstance(arguments, dict) else {}
        group = request.get("ModelPackageGroupName")
        if group:
            request.pop("ModelPackageName", None)
            if self.model_package_groups.find(group) is None:
                try:
                    self.model_package_groups.create({"ModelPackageGroupName": group})
                except ValidationError:
                    if (
                        self.model_package_groups.find(group) is None
                    ):  # not made meanwhile by another step
                        raise
        elif not request.get("ModelPackageName"):
            request["ModelPackageName"] = job_name
        arn = self.model_packages.create(request)["ModelPackageArn"]
        described = self.model_packages.describe(arn)
        return Started(SUCCEEDED, {"RegisterModel": {"Arn": arn}}, properties=described)

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        return Progress(record.get("StepStatus", SUCCEEDED))

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        return False

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record["_sagebox"].get("properties") or {}
