"""Trial components: Create / Describe / List / Update / Delete, Associate / Disassociate.

A trial component's stored document is its DescribeTrialComponent answer plus what
SageMaker's Search record adds: `Parents` (the trials it is associated with and their
experiments), `RunName` and `SourceDetail` for the components SageMaker makes for jobs.
Its `Metrics` are summaries of the points logged to it (`metrics.py`), in
DescribeTrialComponent's shape. Association is kept on both sides, the component's
Parents and the trial's TrialComponentSummaries, so either can be filtered on.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sagebox.config import Settings
from sagebox.services.errors import ResourceNotFound, ValidationError
from sagebox.services.events import EventBus
from sagebox.services.experiments.entities import ExperimentEntityService, epoch
from sagebox.services.experiments.experiments import ExperimentService
from sagebox.services.experiments.job_components import JobTrialComponents
from sagebox.services.experiments.metrics import TrialComponentMetrics
from sagebox.services.experiments.trials import TrialService
from sagebox.services.families import TRIAL_COMPONENT
from sagebox.services.logs import LogService
from sagebox.store import EACH, Condition, MetadataStore, ResourceRecord
from sagebox.store.query import Expression

MAX_PARAMETERS = 300
MAX_ARTIFACTS = 60
_LIST_FILTERS = ("ExperimentName", "TrialName", "SourceArn")


class TrialComponentService(ExperimentEntityService):
    family = TRIAL_COMPONENT
    title = "TrialComponent"

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        events: EventBus,
        experiments: ExperimentService,
        trials: TrialService,
    ) -> None:
        super().__init__(settings, store)
        self._experiments = experiments
        self._trials = trials
        self._membership = threading.Lock()
        self.metrics = TrialComponentMetrics(self, self._repo, store.metric_points)
        self.jobs = JobTrialComponents(self, trials, experiments, LogService(settings))
        self.jobs.follow(events)

    # -- the standard verbs ------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.create_component(request, {})
        return {"TrialComponentArn": record.arn}

    def create_component(self, request: Mapping[str, Any], extra: Mapping[str, Any]) -> ResourceRecord:
        """A new component from a CreateTrialComponent request; `extra` are members sagebox
        sets itself (Source, Sources, SourceDetail, RunName for a job's component)."""
        for member in ("Parameters", "InputArtifacts", "OutputArtifacts"):
            _check_entries(member, request.get(member) or {})
        members: dict[str, Any] = {
            "DisplayName": request.get("DisplayName"),
            "Status": request.get("Status"),
            "StartTime": _time(request.get("StartTime")),
            "EndTime": _time(request.get("EndTime")),
            "Parameters": dict(request.get("Parameters") or {}),
            "InputArtifacts": dict(request.get("InputArtifacts") or {}),
            "OutputArtifacts": dict(request.get("OutputArtifacts") or {}),
            "MetadataProperties": request.get("MetadataProperties"),
            "Metrics": [],
            "Parents": [],
            **extra,
        }
        return self.insert(request["TrialComponentName"], members, request.get("Tags"))

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        given = [member for member in _LIST_FILTERS if request.get(member)]
        if len(given) > 1:
            raise ValidationError(
                f"ListTrialComponents filters on one of {', '.join(_LIST_FILTERS)}; "
                f"{' and '.join(given)} were given."
            )
        conditions: list[Expression] = []
        if request.get("ExperimentName"):
            experiment = self._experiments.get(request["ExperimentName"])
            conditions.append(Condition(("Parents", EACH, "ExperimentName"), "Equals", experiment.name))
        elif request.get("TrialName"):
            trial = self._trials.get(request["TrialName"])
            conditions.append(Condition(("Parents", EACH, "TrialName"), "Equals", trial.name))
        elif request.get("SourceArn"):
            conditions.append(Condition(("Source", "SourceArn"), "Equals", request["SourceArn"]))
        return self.list_page(request, conditions, _summary)

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        changes = _Update(request)
        record = self.change(request["TrialComponentName"], changes.apply)
        return {"TrialComponentArn": record.arn}

    def delete(self, name: str) -> dict[str, Any]:
        """SageMaker deletes a trial component only once it is in no trial; its metric
        points go with it."""
        record = self.get(name)
        parents = record.document.get("Parents") or []
        if parents:
            trials = ", ".join(p["TrialName"] for p in parents[:5])
            raise ValidationError(
                f"TrialComponent '{record.arn}' is associated with {len(parents)} trial(s) ({trials}); "
                "disassociate it from every trial before deleting it (DisassociateTrialComponent)."
            )
        self.remove(record)
        self.metrics.forget(record.arn)
        self._store.metric_points.delete_all(record.arn)
        return {"TrialComponentArn": record.arn}

    def recover(self) -> None:
        """After a restart: job components catch up with jobs that ended meanwhile."""
        self.jobs.reconcile(self._store)

    def shutdown(self) -> None:
        """Before the server stops: the metric points still queued are written."""
        self.metrics.close()

    # -- association ---------------------------------------------------------------------

    def associate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Adds the component to a trial (again: nothing changes)."""
        component = self.get(request["TrialComponentName"])
        trial = self._trials.get(request["TrialName"])
        parent = {"TrialName": trial.name, "ExperimentName": trial.document["ExperimentName"]}
        with self._membership:
            self.change(component.name, lambda r: _add_parent(r, parent))
            try:
                self._trials.add_component(trial.name, simple_summary(component.document))
            except Exception:
                self.change(component.name, lambda r: _drop_parent(r, trial.name))
                raise
        return {"TrialComponentArn": component.arn, "TrialArn": trial.arn}

    def disassociate(self, request: dict[str, Any]) -> dict[str, Any]:
        component = self.get(request["TrialComponentName"])
        trial = self._trials.get(request["TrialName"])
        with self._membership:
            current = self.get(component.name)
            parents = current.document.get("Parents") or []
            if all(p["TrialName"] != trial.name for p in parents):
                raise ResourceNotFound(
                    f"TrialComponent '{component.arn}' is not associated with Trial '{trial.arn}'."
                )
            self._trials.remove_component(trial.name, component.arn)
            self.change(component.name, lambda r: _drop_parent(r, trial.name))
        return {"TrialComponentArn": component.arn, "TrialArn": trial.arn}


class _Update:
    """UpdateTrialComponent: replaced members, and the maps' entries added or removed."""

    def __init__(self, request: dict[str, Any]) -> None:
        self._request = request
        for member in ("Parameters", "InputArtifacts", "OutputArtifacts"):
            given = request.get(member) or {}
            _check_entries(member, given)
            removed = set(request.get(f"{member}ToRemove") or [])
            both = sorted(removed & set(given))
            if both:
                raise ValidationError(
                    f"{member} and {member}ToRemove both name {', '.join(repr(k) for k in both)}; "
                    "an entry is either set or removed."
                )

    def apply(self, record: ResourceRecord) -> None:
        request, document = self._request, record.document
        for member in ("DisplayName", "Status"):
            if request.get(member) is not None:
                document[member] = request[member]
        for member in ("StartTime", "EndTime"):
            if request.get(member) is not None:
                document[member] = _time(request[member])
        for member, limit in (("Parameters", MAX_PARAMETERS), ("InputArtifacts", MAX_ARTIFACTS),
                              ("OutputArtifacts", MAX_ARTIFACTS)):
            entries = dict(document.get(member) or {})
            entries.update(request.get(member) or {})
            for key in request.get(f"{member}ToRemove") or []:
                entries.pop(key, None)
            if len(entries) > limit:
                raise ValidationError(
                    f"{member}: a trial component has at most {limit} entries; this update would "
                    f"leave {len(entries)}."
                )
            document[member] = entries


def _check_entries(member: str, entries: Mapping[str, Any]) -> None:
    """A parameter holds exactly one of StringValue and NumberValue."""
    if member != "Parameters":
        return
    for key, value in entries.items():
        present = [name for name in ("StringValue", "NumberValue") if value.get(name) is not None]
        if len(present) != 1:
            raise ValidationError(
                f"Parameters '{key}' must have exactly one of StringValue and NumberValue; "
                f"{'both were' if present else 'neither was'} given."
            )


def _time(value: Any) -> float | None:
    return None if value is None else epoch(value)


def _add_parent(record: ResourceRecord, parent: dict[str, str]) -> None:
    parents = record.document.setdefault("Parents", [])
    if all(p["TrialName"] != parent["TrialName"] for p in parents):
        parents.append(parent)


def _drop_parent(record: ResourceRecord, trial: str) -> None:
    parents = record.document.get("Parents") or []
    record.document["Parents"] = [p for p in parents if p["TrialName"] != trial]


def simple_summary(document: Mapping[str, Any]) -> dict[str, Any]:
    """The component as a trial's TrialComponentSummaries lists it."""
    summary = {
        "TrialComponentName": document["TrialComponentName"],
        "TrialComponentArn": document["TrialComponentArn"],
        "CreationTime": document["CreationTime"],
    }
    if document.get("Source"):
        summary["TrialComponentSource"] = dict(document["Source"])
    return summary


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "TrialComponentName": document["TrialComponentName"],
        "TrialComponentArn": document["TrialComponentArn"],
        "DisplayName": document.get("DisplayName"),
        "TrialComponentSource": document.get("Source"),
        "Status": document.get("Status"),
        "StartTime": document.get("StartTime"),
        "EndTime": document.get("EndTime"),
        "CreationTime": document["CreationTime"],
        "LastModifiedTime": document.get("LastModifiedTime"),
    }
