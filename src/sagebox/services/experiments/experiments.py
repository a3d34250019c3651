"""Experiments: CreateExperiment / Describe / List / Update / Delete."""

from __future__ import annotations

from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.experiments.entities import ExperimentEntityService, source_summary
from sagebox.services.families import EXPERIMENT
from sagebox.store import Condition, ResourceRecord


class ExperimentService(ExperimentEntityService):
    family = EXPERIMENT
    title = "Experiment"

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        members = {"DisplayName": request.get("DisplayName"), "Description": request.get("Description")}
        record = self.insert(request["ExperimentName"], members, request.get("Tags"))
        return {"ExperimentArn": record.arn}

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.list_page(request, [], _summary)

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        def updating(record: ResourceRecord) -> None:
            for member in ("DisplayName", "Description"):
                if request.get(member) is not None:
                    record.document[member] = request[member]

        return {"ExperimentArn": self.change(request["ExperimentName"], updating).arn}

    def delete(self, name: str) -> dict[str, Any]:
        """SageMaker deletes an experiment only once every trial in it is deleted."""
        record = self.get(name)
        trials = self._store.resources("Trial").count(
            Condition(("ExperimentName",), "Equals", record.name)
        )
        if trials:
            raise ValidationError(
                f"Experiment '{record.arn}' still has {trials} trial(s); all trials associated "
                "with an experiment must be deleted first (ListTrials with ExperimentName lists them)."
            )
        self.remove(record)
        return {"ExperimentArn": record.arn}


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "ExperimentArn": document["ExperimentArn"],
        "ExperimentName": document["ExperimentName"],
        "DisplayName": document.get("DisplayName"),
        "ExperimentSource": source_summary(document),
        "CreationTime": document["CreationTime"],
        "LastModifiedTime": document.get("LastModifiedTime"),
    }
