"""The trial components SageMaker keeps for training, processing and transform jobs.

Follows the job families' resource events: when a job is created its component is
created (`job_sources.py` says what it holds) and, when the job's request had an
ExperimentConfig, associated with the trial it names, as SageMaker does: an existing
trial; a trial of that name created in the named experiment when it does not exist yet;
with an ExperimentName alone, a new trial named after the component. The config's
RunName (the SDK's `Run` passes its own trial component's name) is kept as the
component's `RunName`, as SageMaker's Search record shows it. An ExperimentConfig that
names an experiment that does not exist, a trial that does not exist with no experiment
to create it in, or a trial of another experiment refuses the job before it is created
(`check_config`, registered as the bus's request check).

When the job ends its component follows: status, end time, outputs (the model
artifact), the job's record, and, for a training job, its metrics. Those are read
once, at the end, from the job's log with its MetricDefinitions, so every value the job
printed is a point of the component's series (Count, Min, Max, ... over all of them);
while a training job runs its component shows no metrics yet.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sagebox.runtime.metrics import MetricDefinitionError, MetricExtractor, MetricObservation
from sagebox.services.errors import ResourceNotFound, ServiceError, ValidationError
from sagebox.services.events import CREATED, ENDED, EventBus, ResourceEvent
from sagebox.services.experiments.job_sources import JOB_SOURCES, JobSource
from sagebox.services.families import TRIAL_COMPONENT
from sagebox.services.job_states import public
from sagebox.services.logs import TRAINING_GROUP, LogService
from sagebox.store import AllOf, Condition, MetadataStore, MetricPoint, ResourceRecord

if TYPE_CHECKING:
    from sagebox.services.experiments.experiments import ExperimentService
    from sagebox.services.experiments.trial_components import TrialComponentService
    from sagebox.services.experiments.trials import TrialService

log = logging.getLogger(__name__)


class JobTrialComponents:
    """Keeps a trial component for every training, processing and transform job."""

    def __init__(
        self,
        components: TrialComponentService,
        trials: TrialService,
        experiments: ExperimentService,
        logs: LogService,
    ) -> None:
        self._components = components
        self._trials = trials
        self._experiments = experiments
        self._logs = logs

    def follow(self, events: EventBus) -> None:
        events.subscribe(self.on_event, kinds=set(JOB_SOURCES))
        events.check_requests(self.check_config, kinds=set(JOB_SOURCES))

    def check_config(self, kind: str, request: dict[str, Any]) -> None:
        """Refuses a job whose ExperimentConfig names what does not exist."""
        config = request.get("ExperimentConfig") or {}
        experiment, trial = config.get("ExperimentName"), config.get("TrialName")
        if experiment and self._experiments.find(experiment) is None:
            raise ResourceNotFound(
                f"ExperimentConfig.ExperimentName: experiment '{experiment}' does not exist."
            )
        if not trial:
            return
        found = self._trials.find(trial)
        if found is None and not experiment:
            raise ResourceNotFound(
                f"ExperimentConfig.TrialName: trial '{trial}' does not exist, and no ExperimentName "
                "was given to create it in."
            )
        if found is not None and experiment and found.document.get("ExperimentName") != experiment:
            raise ValidationError(
                f"ExperimentConfig.TrialName: trial '{trial}' belongs to experiment "
                f"'{found.document.get('ExperimentName')}', not to '{experiment}'."
            )

    def reconcile(self, store: MetadataStore) -> None:
        """After a restart: a component still InProgress whose job has ended follows it
        (the server stopped between the job's end and its component's update)."""
        kinds = {source.source_type: kind for kind, source in JOB_SOURCES.items()}
        where = AllOf([
            Condition(("Status", "PrimaryStatus"), "In", ["InProgress", "Stopping"]),
            Condition(("Source", "SourceType"), "In", list(kinds)),
        ])
        token = None
        while True:
            page, token = store.resources(TRIAL_COMPONENT.kind).query(where, max_results=100, next_token=token)
            for component in page:
                source = component.document["Source"]
                kind = kinds[source["SourceType"]]
                job = store.resources(kind).get_by_arn(source["SourceArn"])
                status = job.document.get(JOB_SOURCES[kind].status_member) if job else None
                if job is not None and status in ("Completed", "Failed", "Stopped"):
                    self.on_event(ResourceEvent(kind, job.name, job.arn, ENDED, public(job.document)))
            if not token:
                return

    def on_event(self, event: ResourceEvent) -> None:
        source = JOB_SOURCES[event.kind]
        if event.change == CREATED:
            self._created(source, event)
        elif event.change == ENDED:
            self._ended(source, event)

    # -- a job was created -----------------------------------------------------------------

    def _created(self, source: JobSource, event: ResourceEvent) -> ResourceRecord:
        existing = self._components.find(source.component_name(event.name))
        if existing is not None:
            return existing
        record = self._components.create_component(source.creation_request(event), source.members(event))
        self._join(record, event.document.get("ExperimentConfig") or {})
        return record

    def _join(self, component: ResourceRecord, config: dict[str, Any]) -> None:
        """Associates the component with the trial its job's ExperimentConfig names."""
        experiment, trial = config.get("ExperimentName"), config.get("TrialName")
        if not experiment and not trial:
            return
        try:
            if trial is None:
                trial = component.name
            if self._trials.find(trial) is None:
                if not experiment or self._experiments.find(experiment) is None:
                    log.warning(
                        "%s: ExperimentConfig names trial %r, which does not exist, and no existing "
                        "experiment to create it in; the component stays in no trial",
                        component.name, trial,
                    )
                    return
                self._trials.create({"TrialName": trial, "ExperimentName": experiment})
            self._components.associate({"TrialComponentName": component.name, "TrialName": trial})
        except ServiceError as exc:
            log.warning("%s: could not join trial %r: %s", component.name, trial, exc.message)

    # -- a job ended ---------------------------------------------------------------------------

    def _ended(self, source: JobSource, event: ResourceEvent) -> None:
        record = self._created(source, event)
        document = event.document
        state = source.state(document)
        outputs = source.outputs(document)
        detail = source.members(event)["SourceDetail"]

        def ending(stored: ResourceRecord) -> None:
            stored.document.update(state)
            stored.document.setdefault("OutputArtifacts", {}).update(outputs)
            stored.document["SourceDetail"] = detail

        record = self._components.change(record.name, ending)
        if source.kind == "TrainingJob":
            points = self._training_points(event)
            if points:
                names = sorted({p.metric_name for p in points})
                self._components.metrics.record(record, points, replacing=names)

    def _training_points(self, event: ResourceEvent) -> list[MetricPoint]:
        """Every metric value the job printed, from its log; its final metrics otherwise."""
        definitions = (event.document.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
        seen: list[MetricObservation] = []
        try:
            extractor = MetricExtractor(definitions, seen.append)
        except MetricDefinitionError:
            extractor = None
        if extractor is not None:
            for message, timestamp in self._log_lines(event.name):
                extractor.feed(message, timestamp)
        if seen:
            return [MetricPoint(o.name, o.timestamp, o.value, o.step) for o in seen]
        return [
            MetricPoint(m["MetricName"], float(m.get("Timestamp") or 0.0), float(m["Value"]), 0)
            for m in event.document.get("FinalMetricDataList") or []
        ]

    def _log_lines(self, job: str) -> list[tuple[str, float]]:
        request: dict[str, Any] = {"logGroupName": TRAINING_GROUP, "logStreamNamePrefix": f"{job}/"}
        lines: list[tuple[str, float]] = []
        while True:
            page = self._logs.filter_log_events(request)
            lines += [(e["message"], e["timestamp"] / 1000) for e in page["events"]]
            if not page.get("nextToken"):
                return lines
            request["nextToken"] = page["nextToken"]
