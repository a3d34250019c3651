"""Selective execution: run only some steps, reusing what an earlier execution's steps made.

StartPipelineExecution's SelectiveExecutionConfig names the steps to run and the source
execution (by default the pipeline's latest). Every step a selected step needs must have
succeeded in the source; those steps are not run again but shown with their source's
results (SelectiveExecutionResult), and steps neither selected nor needed do not run. The
IfSteps and ElseSteps of a selected Condition step are part of it, so they are selected too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagebox.services.errors import ValidationError
from sagebox.services.pipelines.definition import PipelineDefinition
from sagebox.services.pipelines.graph import PipelineGraph
from sagebox.store import ResourceRecord

if TYPE_CHECKING:
    from sagebox.services.pipelines.executions import PipelineExecutionService


@dataclass(frozen=True)
class Selection:
    config: dict[str, Any]
    """The SelectiveExecutionConfig as DescribePipelineExecution shows it."""
    steps: list[str]
    source_arn: str


def check_selection(
    service: PipelineExecutionService,
    pipeline: ResourceRecord,
    definition: PipelineDefinition,
    config: dict[str, Any] | None,
) -> Selection | None:
    if not config:
        return None
    selected = [s["StepName"] for s in config.get("SelectedSteps") or []]
    if not selected:
        raise ValidationError("SelectiveExecutionConfig.SelectedSteps must name at least one step.")
    unknown = [s for s in selected if s not in definition.steps]
    if unknown:
        raise ValidationError(
            f"SelectiveExecutionConfig.SelectedSteps: '{unknown[0]}' is not a step of the pipeline."
        )
    selected += _branch_steps(definition, selected)
    source_arn = config.get("SourcePipelineExecutionArn") or service.latest_arn(pipeline.arn)
    if source_arn is None:
        raise ValidationError(
            f"Pipeline '{pipeline.arn}' has no execution whose steps a selective execution could reuse."
        )
    source = service.get(source_arn)
    if source.parent_arn != pipeline.arn:
        raise ValidationError(
            f"SourcePipelineExecutionArn '{source_arn}' is not an execution of pipeline '{pipeline.arn}'."
        )
    if source.document.get("PipelineExecutionStatus") in ("Executing", "Stopping"):
        raise ValidationError(
            f"SourcePipelineExecutionArn '{source_arn}' is still running; a source must have ended."
        )
    ran = {
        r.document["StepName"]: r.document.get("StepStatus")
        for r in service.step_records.of_execution(source.arn)
    }
    for needed in sorted(PipelineGraph(definition).upstream(set(selected))):
        if ran.get(needed) != "Succeeded":
            raise ValidationError(
                f"Step '{needed}', which the selected steps need, did not succeed in the source execution "
                f"'{source_arn}' ({ran.get(needed) or 'it did not run'}); select it too or choose another source."
            )
    return Selection(
        {"SourcePipelineExecutionArn": source.arn, "SelectedSteps": list(config["SelectedSteps"])},
        selected,
        source.arn,
    )


def _branch_steps(definition: PipelineDefinition, selected: list[str]) -> list[str]:
    """The steps in the branches of the selected Condition steps, nested ones included."""
    found: list[str] = []
    chosen = set(selected)
    changed = True
    while changed:
        changed = False
        for name, step in definition.steps.items():
            if (
                step.branch is not None
                and step.branch.condition_step in chosen
                and name not in chosen
            ):
                chosen.add(name)
                found.append(name)
                changed = True
    return found
