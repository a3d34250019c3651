"""The composition root: settings, stores, runtime and the services built on them."""

from __future__ import annotations

import logging

from sagebox.config import Settings
from sagebox.objects import ObjectStore, open_object_store
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.hosting.endpoint_configs import EndpointConfigService
from sagebox.services.hosting.endpoints import EndpointService
from sagebox.services.hosting.invocations import InvocationService
from sagebox.services.hosting.models import ModelService
from sagebox.services.hosting.supervisor import EndpointSupervisor
from sagebox.services.logs import LogService
from sagebox.services.processing import ProcessingJobService
from sagebox.services.tags import TagService
from sagebox.services.training import TrainingJobService
from sagebox.services.transform import TransformJobService
from sagebox.services.tuning import TuningJobService
from sagebox.store import MetadataStore

log = logging.getLogger(__name__)


class Platform:
    """Everything one sagebox server runs; services are callable without HTTP."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.store = MetadataStore(settings.resolved_database_url)
        self.objects: ObjectStore = open_object_store(
            settings.resolved_objects_url, s3_endpoint_url=settings.s3_endpoint_url
        )
        self.scheduler = JobScheduler(settings.max_concurrent_jobs)
        self.training = TrainingJobService(settings, self.store, self.objects, self.scheduler)
        self.tuning = TuningJobService(settings, self.store, self.training)
        self.tags = TagService(self.store)
        self.models = ModelService(settings, self.store, self.objects)
        self.endpoint_configs = EndpointConfigService(settings, self.store, self.models)
        self.endpoints = EndpointService(settings, self.store, self.objects, self.models, self.endpoint_configs)
        self.invocations = InvocationService(self.endpoints, self.objects, settings.account_id, settings.region)
        self.supervisor = EndpointSupervisor(
            self.endpoints,
            self.invocations,
            interval_seconds=settings.health_check_seconds,
            serverless_idle_seconds=settings.serverless_idle_seconds,
            capture_flush_seconds=settings.capture_flush_seconds,
        )
        self.transform = TransformJobService(settings, self.store, self.objects, self.scheduler, self.models)
        self.processing = ProcessingJobService(settings, self.store, self.objects, self.scheduler)
        self.logs = LogService(settings)
        self._started = False

    def start(self) -> None:
        """Picks up where a previous server left off; idempotent."""
        if self._started:
            return
        self._started = True
        self.training.recover()
        self.tuning.recover()
        self.transform.recover()
        self.processing.recover()
        self.endpoints.recover()
        self.supervisor.start()

    def close(self) -> None:
        self.tuning.shutdown()
        self.supervisor.stop()
        self.invocations.capture.flush()
        self.endpoints.shutdown()
        self.training.shutdown()
        self.transform.shutdown()
        self.processing.shutdown()
        self.scheduler.shutdown(wait=True)
        self.store.close()
