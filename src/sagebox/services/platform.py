"""The composition root: settings, stores, runtime and the services built on them.

Every resource family's service is built from its row of the family table: its class
is imported from the row's ``module:Class`` and each constructor parameter is given by
name (settings, store, objects, scheduler, executor, or another family's service by its
attribute name), in table order, and publishes its changes on the shared event bus
(`services/events.py`), where services that follow other families' resources subscribe.
Start-up recovery follows the table; shutdown goes in reverse, so a service is shut down
before the services it was built with.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore, open_object_store
from sagebox.runtime import open_executor
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.automl import AutoMLJobService
from sagebox.services.events import EventBus
from sagebox.services.experiments import ExperimentService, TrialComponentService, TrialService
from sagebox.services.families import FAMILIES, Family
from sagebox.services.hosting.endpoint_configs import EndpointConfigService
from sagebox.services.hosting.endpoints import EndpointService
from sagebox.services.hosting.invocations import InvocationService
from sagebox.services.hosting.job_endpoints import JobScopedEndpoints
from sagebox.services.hosting.models import ModelService
from sagebox.services.hosting.supervisor import EndpointSupervisor
from sagebox.services.leases import Leases
from sagebox.services.logs import LogService
from sagebox.services.metrics.service import MetricService
from sagebox.services.notebooks.instances import NotebookInstanceService
from sagebox.services.notebooks.lifecycle_configs import NotebookInstanceLifecycleConfigService
from sagebox.services.pipelines.executions import PipelineExecutionService
from sagebox.services.pipelines.pipelines import PipelineService
from sagebox.services.processing import ProcessingJobService
from sagebox.services.registry.groups import ModelPackageGroupService
from sagebox.services.registry.packages import ModelPackageService
from sagebox.services.search import SearchService
from sagebox.services.tags import TagService
from sagebox.services.training import TrainingJobService
from sagebox.services.transform import TransformJobService
from sagebox.services.tuning import TuningJobService
from sagebox.store import MetadataStore

log = logging.getLogger(__name__)


class Platform:
    """Everything one sagebox server runs; services are callable without HTTP."""

    # The family services, as the family table builds them (typed for readers and tools).
    models: ModelService
    endpoint_configs: EndpointConfigService
    endpoints: EndpointService
    training: TrainingJobService
    tuning: TuningJobService
    processing: ProcessingJobService
    transform: TransformJobService
    model_package_groups: ModelPackageGroupService
    model_packages: ModelPackageService
    experiments: ExperimentService
    trials: TrialService
    trial_components: TrialComponentService
    pipelines: PipelineService
    pipeline_executions: PipelineExecutionService
    automl: AutoMLJobService
    notebook_lifecycle_configs: NotebookInstanceLifecycleConfigService
    notebook_instances: NotebookInstanceService

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.store = MetadataStore(settings.resolved_database_url)
        self.objects: ObjectStore = open_object_store(
            settings.resolved_objects_url, s3_endpoint_url=settings.s3_endpoint_url
        )
        self.scheduler = JobScheduler(settings.max_concurrent_jobs)
        self.executor = open_executor(settings.executor)
        self.events = EventBus()  # every family service publishes its changes here
        # Which resources' background work this server drives: shared through the store when
        # it is PostgreSQL (several servers may use it), all of them with embedded SQLite.
        self.leases = Leases(
            self.store.leases if self.store.dialect == "postgresql" else None,
            server_id=settings.server_id,
            seconds=settings.lease_seconds,
        )
        self.metrics = MetricService(settings, self.store)  # CloudWatch metrics
        self.services: dict[str, Any] = {}  # family kind -> its service
        for family in FAMILIES:
            service = self._build(family)
            service.events = self.events
            if hasattr(service, "leases"):  # background work under leases: jobs, monitoring schedules
                service.leases = self.leases
            if hasattr(service, "watch_leases"):  # the job families adopt orphans, act on Stops
                self.leases.watch(service.watch_leases)
            self.services[family.kind] = service
            setattr(self, family.attribute, service)
        self.tags = TagService(self.store)
        # Shadow endpoints a processing job left behind go when the job ends.
        JobScopedEndpoints(self.store, self.endpoints, self.endpoint_configs).follow(self.events)
        self.invocations = InvocationService(self.endpoints, self.objects, settings.account_id, settings.region)
        self.supervisor = EndpointSupervisor(
            self.endpoints,
            self.invocations,
            interval_seconds=settings.health_check_seconds,
            serverless_idle_seconds=settings.serverless_idle_seconds,
            capture_flush_seconds=settings.capture_flush_seconds,
            metrics=self.metrics,
            metrics_flush_seconds=settings.metrics_flush_seconds,
        )
        self.logs = LogService(settings)
        # Declares the document index of what it searches; builds some records by Describe.
        self.search = SearchService(self.store, self.services)
        self._started = False

    def _build(self, family: Family) -> Any:
        module, _, name = family.implementation.partition(":")
        service_class = getattr(importlib.import_module(module), name)
        parameters = list(inspect.signature(service_class).parameters)
        missing = [p for p in parameters if not hasattr(self, p)]
        if missing:
            raise TypeError(f"{family.implementation} needs {missing}, which the platform has not built yet")
        return service_class(**{parameter: getattr(self, parameter) for parameter in parameters})

    def service(self, family: Family) -> Any:
        return self.services[family.kind]

    def start(self) -> None:
        """Picks up where a previous server left off; idempotent."""
        if self._started:
            return
        self._started = True
        for family in FAMILIES:
            self.service(family).recover()
        self.leases.start()
        self.supervisor.start()

    def close(self) -> None:
        self.supervisor.stop()
        self.leases.stop()  # adopts nothing more while the services shut down
        self.invocations.capture.flush()
        for family in reversed(FAMILIES):
            self.service(family).shutdown()
        self.scheduler.shutdown(wait=True)
        self.leases.release_all()  # other servers take over what was left at once
        self.store.close()
