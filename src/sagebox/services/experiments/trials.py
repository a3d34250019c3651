"""Trials: CreateTrial / Describe / List / Update / Delete.

A trial belongs to one existing experiment. Its stored document also holds
`TrialComponentSummaries`, the components associated with it as SageMaker's Search
record shows them, kept in step by AssociateTrialComponent / DisassociateTrialComponent
(`trial_components.py`), so that ListTrials by TrialComponentName and Search filter on it.
"""

from __future__ import annotations

from typing import Any

from sagebox.config import Settings
from sagebox.services.errors import ValidationError
from sagebox.services.experiments.entities import (
    ExperimentEntityService,
    missing,
    source_summary,
)
from sagebox.services.experiments.experiments import ExperimentService
from sagebox.services.families import TRIAL, TRIAL_COMPONENT
from sagebox.store import EACH, Condition, MetadataStore, ResourceRecord
from sagebox.store.query import Expression


class TrialService(ExperimentEntityService):
    family = TRIAL
    title = "Trial"

    def __init__(self, settings: Settings, store: MetadataStore, experiments: ExperimentService) -> None:
        super().__init__(settings, store)
        self._experiments = experiments

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        experiment = self._experiments.get(request["ExperimentName"])
        members = {
            "DisplayName": request.get("DisplayName"),
            "ExperimentName": experiment.name,
            "MetadataProperties": request.get("MetadataProperties"),
            "TrialComponentSummaries": [],
        }
        record = self.insert(request["TrialName"], members, request.get("Tags"))
        return {"TrialArn": record.arn}

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        conditions: list[Expression] = []
        if request.get("ExperimentName"):
            experiment = self._experiments.get(request["ExperimentName"])
            conditions.append(Condition(("ExperimentName",), "Equals", experiment.name))
        if request.get("TrialComponentName"):
            component = self._component(request["TrialComponentName"])
            path = ("TrialComponentSummaries", EACH, "TrialComponentName")
            conditions.append(Condition(path, "Equals", component.name))
        return self.list_page(request, conditions, _summary)

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        def updating(record: ResourceRecord) -> None:
            if request.get("DisplayName") is not None:
                record.document["DisplayName"] = request["DisplayName"]

        return {"TrialArn": self.change(request["TrialName"], updating).arn}

    def delete(self, name: str) -> dict[str, Any]:
        """SageMaker deletes a trial only once no trial component is associated with it."""
        record = self.get(name)
        components = record.document.get("TrialComponentSummaries") or []
        if components:
            names = ", ".join(c["TrialComponentName"] for c in components[:5])
            raise ValidationError(
                f"Trial '{record.arn}' still has {len(components)} trial component(s) ({names}); "
                "all trial components that make up a trial must be removed first "
                "(DisassociateTrialComponent)."
            )
        self.remove(record)
        return {"TrialArn": record.arn}

    # -- membership, for AssociateTrialComponent / DisassociateTrialComponent -------------

    def add_component(self, trial: str, component: dict[str, Any]) -> ResourceRecord:
        """Lists `component` (a TrialComponentSimpleSummary) in the trial, once."""

        def adding(record: ResourceRecord) -> None:
            summaries = record.document.setdefault("TrialComponentSummaries", [])
            if all(s["TrialComponentArn"] != component["TrialComponentArn"] for s in summaries):
                summaries.append(component)

        return self.change(trial, adding)

    def remove_component(self, trial: str, component_arn: str) -> ResourceRecord:
        def removing(record: ResourceRecord) -> None:
            summaries = record.document.get("TrialComponentSummaries") or []
            record.document["TrialComponentSummaries"] = [
                s for s in summaries if s["TrialComponentArn"] != component_arn
            ]

        return self.change(trial, removing)

    def _component(self, name: str) -> ResourceRecord:
        record = self._store.resources(TRIAL_COMPONENT.kind).get_by_arn(
            TRIAL_COMPONENT.arn(self._settings, name)
        )
        if record is None:
            raise missing("TrialComponent", TRIAL_COMPONENT.arn(self._settings, name))
        return record


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "TrialArn": document["TrialArn"],
        "TrialName": document["TrialName"],
        "DisplayName": document.get("DisplayName"),
        "TrialSource": source_summary(document),
        "CreationTime": document["CreationTime"],
        "LastModifiedTime": document.get("LastModifiedTime"),
    }

