"""Runs one transform job end to end: model, instances, data through them, outputs, record."""

from __future__ import annotations

import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from sagebox.objects import ObjectStoreError
from sagebox.objects.archives import UnsafeArchiveError
from sagebox.runtime.model_server import ModelServerStartError
from sagebox.runtime.venv_cache import VirtualEnvCache
from sagebox.services.hosting.fleet import prepare_model
from sagebox.services.hosting.models import containers_of, serving_handler
from sagebox.services.hosting.script_models import ScriptCodeError, stage_script_code
from sagebox.services.job_states import internal, touch
from sagebox.services.jobs import Ending, JobContext, JobFailure, JobRun
from sagebox.services.transform.data_processing import DataProcessing
from sagebox.services.transform.dispatch import Dispatcher, TransformOptions
from sagebox.services.transform.inputs import list_inputs
from sagebox.services.transform.instances import ContainerSetup, TransformInstance
from sagebox.store import ResourceRecord

MB = 1024 * 1024
DEFAULT_MAX_PAYLOAD_IN_MB = 6
DEFAULT_TIMEOUT_SECONDS = 600
DEFAULT_MAX_RETRIES = 3
MAX_CONCURRENCY = 64
_STRATEGIES = {"MULTI_RECORD": "MultiRecord", "SINGLE_RECORD": "SingleRecord"}


class TransformRun(JobRun):
    """One execution of a transform job; stop() may be called from any thread."""

    def __init__(self, name: str, document: dict[str, Any], context: JobContext, model: dict[str, Any]) -> None:
        super().__init__(name, document, context)
        self._model = model
        self.folder = self._settings.jobs_dir / "transform" / name
        self._instances: list[TransformInstance] = []

    def run(self) -> Ending:
        self.record_change(_started)
        document = self._document
        inputs = list_inputs(self._objects, document["TransformInput"]["DataSource"]["S3DataSource"])
        containers = self._prepare_containers(document)
        if not self.stopping:
            self._instances = self._start_instances(document, containers)
        if not self.stopping:
            options = self._options(document, self._instances[0])
            Dispatcher(options, self._objects, self._instances, self.folder / "scratch", self._stop).run(inputs)
        # A job whose every output is uploaded is Completed, whatever came after.
        return self.stopped_ending() if self.stopping else Ending("Completed")

    def clean_up(self) -> None:
        for instance in self._instances:
            instance.stop()
        shutil.rmtree(self.folder / "containers", ignore_errors=True)
        shutil.rmtree(self.folder / "scratch", ignore_errors=True)

    # -- preparing ----------------------------------------------------------------------

    def _prepare_containers(self, document: dict[str, Any]) -> list[ContainerSetup]:
        """Unpacks each container's model once; every instance reads it from there."""
        setups = []
        for index, container in enumerate(containers_of(self._model)):
            base = self.folder / "containers" / str(index + 1)
            url = container.get("ModelDataUrl")
            if url:
                try:
                    prepare_model(self._objects, url, base / "model")
                except ObjectStoreError as exc:
                    raise JobFailure(
                        f"ClientError: could not download the model data {url}: {exc.code}: {exc.message}"
                    ) from exc
                except UnsafeArchiveError as exc:
                    raise JobFailure(f"ClientError: the model data {url} cannot be unpacked: {exc}") from exc
            environment = {**(container.get("Environment") or {}), **(document.get("Environment") or {})}
            try:
                venvs = VirtualEnvCache(self._settings.venvs_dir)
                environment.update(stage_script_code(self._objects, container, base, venvs))
            except ScriptCodeError as exc:
                raise JobFailure(f"ClientError: {exc}") from exc
            environment["SAGEMAKER_BATCH"] = "true"
            if document.get("MaxPayloadInMB"):  # the container's own request size limit
                environment["MAX_CONTENT_LENGTH"] = str(document["MaxPayloadInMB"] * MB)
            setups.append(ContainerSetup(serving_handler(container), base, environment))
        return setups

    def _start_instances(self, document: dict[str, Any], containers: list[ContainerSetup]) -> list[TransformInstance]:
        resources = document["TransformResources"]
        count = resources["InstanceCount"]
        # On a cluster the job's instances go to different nodes (one key per execution
        # of the job: a rerun after a restart is a new set of instances).
        spread = f"transform-{self.name}-{uuid.uuid4().hex[:8]}"
        instances = [
            TransformInstance(
                n + 1,
                containers,
                self.folder / "logs",
                self._executor,
                spread=spread,
                instance_type=resources.get("InstanceType"),
            )
            for n in range(count)
        ]
        with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
            futures = [pool.submit(instance.start) for instance in instances]
            problems = []
            for future in futures:
                try:
                    future.result()
                except ModelServerStartError as exc:
                    problems.append(str(exc))
        tokens = [token for instance in instances for token in instance.tokens()]

        def remember(record: ResourceRecord) -> None:  # a restarted server ends them
            internal(record).setdefault("executions", []).extend(tokens)

        self.record_change(remember)
        if problems:
            for instance in instances:
                instance.stop()
            raise JobFailure(f"ClientError: the model server could not start: {problems[0]}")
        return instances

    def _options(self, document: dict[str, Any], first: TransformInstance) -> TransformOptions:
        """The job's settings, with the container's /execution-parameters filling the gaps."""
        defaults: dict[str, Any] = {}
        if not document.get("MaxConcurrentTransforms") or not document.get("BatchStrategy") or "MaxPayloadInMB" not in document:
            with httpx.Client() as client:
                defaults = first.execution_parameters(client)
        concurrent = document.get("MaxConcurrentTransforms") or _positive(defaults.get("MaxConcurrentTransforms")) or 1
        concurrent = min(concurrent, MAX_CONCURRENCY)
        strategy = document.get("BatchStrategy") or _STRATEGIES.get(str(defaults.get("BatchStrategy", "")).upper(), "MultiRecord")
        payload = document.get("MaxPayloadInMB")
        if payload is None:
            payload = _positive(defaults.get("MaxPayloadInMB")) or DEFAULT_MAX_PAYLOAD_IN_MB
        payload = min(payload, 100)

        def resolved(record: ResourceRecord) -> None:
            record.document.setdefault("MaxConcurrentTransforms", concurrent)
            record.document.setdefault("BatchStrategy", strategy)
            record.document.setdefault("MaxPayloadInMB", payload)
            touch(record, time.time())

        self.record_change(resolved)
        transform_input, output = document["TransformInput"], document["TransformOutput"]
        client_config = document.get("ModelClientConfig") or {}
        return TransformOptions(
            split_type=transform_input.get("SplitType") or "None",
            multi_record=strategy == "MultiRecord",
            payload_limit=payload * MB,
            content_type=transform_input.get("ContentType"),
            accept=output.get("Accept"),
            assemble_lines=output.get("AssembleWith") == "Line",
            gzip=transform_input.get("CompressionType") == "Gzip",
            timeout=float(client_config.get("InvocationsTimeoutInSeconds") or DEFAULT_TIMEOUT_SECONDS),
            retries=int(client_config.get("InvocationsMaxRetries", DEFAULT_MAX_RETRIES)),
            output_path=output["S3OutputPath"],
            processing=DataProcessing.from_config(document.get("DataProcessing"), transform_input.get("ContentType")),
            concurrency=concurrent,
        )

def _started(record: ResourceRecord) -> None:
    now = time.time()
    record.document["TransformStartTime"] = now
    touch(record, now)


def _positive(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
