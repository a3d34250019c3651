"""A transform job's instances: model server chains, their defaults, and invocations.

An instance runs one model server per container of the model. A request goes to the
first container with the input's ContentType; each container's answer goes on to the
next with the Content-Type it answered with; the last container receives the job's
Accept. Connection failures and answers that say "busy" (429, 502, 503, 504) are
retried up to InvocationsMaxRetries times; any other error status is the model's
answer and is not retried.

On a cluster executor (Ray) each model server runs on a node, reserving the job's
instance type, its container's folder shipped there as its workspace, exactly as an
endpoint instance's (runtime/model_server.py); the job's instances share a spread key per
container, so that they go to different nodes while there are enough. On one machine the
key changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sagebox.runtime.executor import ExecutionToken, Executor
from sagebox.runtime.logs import append_event
from sagebox.runtime.model_server import ModelServerProcess, ModelServerStartError

RETRIED_STATUSES = (429, 502, 503, 504)
RETRY_PAUSE_SECONDS = 0.2
_DETAIL_CHARS = 400


class InvocationFailed(Exception):
    """An invocation failed; `model_error` when the model answered with an error status,
    `unreachable` when the last attempt could not connect or lost its connection."""

    def __init__(self, message: str, *, model_error: bool, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.model_error = model_error
        self.unreachable = unreachable


@dataclass(frozen=True)
class ContainerSetup:
    handler: str
    base_dir: Path
    environment: dict[str, str]


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str | None


class TransformInstance:
    """One instance: a chain of model server processes, started together."""

    def __init__(
        self,
        index: int,
        containers: list[ContainerSetup],
        log_dir: Path,
        executor: Executor,
        *,
        spread: str | None = None,
        instance_type: str | None = None,
    ) -> None:
        self.index = index
        self.lost = False
        """Set by the dispatcher once the instance stopped answering for good."""
        self.servers = [
            ModelServerProcess(
                setup.handler,
                executor=executor,
                base_dir=setup.base_dir,
                log_file=log_dir / f"instance-{index}-container-{position + 1}.jsonl",
                environment=setup.environment,
                spread=f"{spread}/{position}" if spread is not None else None,
                instance_type=instance_type,
            )
            for position, setup in enumerate(containers)
        ]

    def start(self) -> None:
        """Starts every server and waits for /ping; ModelServerStartError on failure."""
        try:
            for server in self.servers:
                server.start()
            for position, server in enumerate(self.servers):
                try:
                    server.wait_ready()
                except ModelServerStartError as exc:
                    where = f"instance {self.index}, container {position + 1}"
                    raise ModelServerStartError(f"{where}: {exc}") from exc
        except BaseException:
            self.stop()
            raise

    def tokens(self) -> list[ExecutionToken]:
        """What a restarted server needs to end this instance's model servers."""
        return [token for token in (s.token for s in self.servers) if token is not None]

    def alive(self) -> bool:
        return all(s.alive() for s in self.servers)

    def where(self) -> str:
        """The instance as a FailureReason names it: its number and, on a cluster, its host."""
        places = {s.placement for s in self.servers if s.placement is not None}
        hosts = sorted(f"{p.address} (Ray node {p.node})" for p in places)
        return f"instance {self.index}" + (f" on {', '.join(hosts)}" if hosts else "")

    def note(self, line: str) -> None:
        """Adds a line of sagebox's own to the instance's log stream (its first container's)."""
        append_event(self.servers[0].log_file, line)

    def gone(self, failure: InvocationFailed) -> bool:
        """Whether an invocation's failure means the instance is gone for good: a server's
        process ended (on a cluster: its node was lost), or it could not be reached and
        does not answer /ping either. A model that is slow or busy is not gone."""
        if failure.model_error:
            return False
        if not self.alive():
            return True
        return failure.unreachable and not all(s.ping() for s in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def execution_parameters(self, client: httpx.Client) -> dict[str, Any]:
        """The first container's GET /execution-parameters, or {} when it has none."""
        try:
            answer = client.get(f"{self.servers[0].url}/execution-parameters", timeout=5.0)
            if answer.status_code != 200:
                return {}
            parameters = answer.json()
        except (httpx.HTTPError, ValueError):
            return {}
        return parameters if isinstance(parameters, dict) else {}

    def invoke(
        self,
        client: httpx.Client,
        body: bytes,
        *,
        content_type: str | None,
        accept: str | None,
        timeout: float,
        retries: int,
    ) -> Answer:
        current = Answer(body, content_type)
        last = len(self.servers) - 1
        for position, server in enumerate(self.servers):
            headers = {}
            if current.content_type:
                headers["Content-Type"] = current.content_type
            if position == last and accept:
                headers["Accept"] = accept
            where = f"container {position + 1}" if last else "the model"
            current = _post(client, f"{server.url}/invocations", current.body, headers, timeout, retries, where)
        return current


def _post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    retries: int,
    where: str,
) -> Answer:
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            problem = f"{where} did not answer within InvocationsTimeoutInSeconds ({timeout:.0f} s)"
            if attempt > retries:
                raise InvocationFailed(problem, model_error=False) from exc
        except httpx.HTTPError as exc:
            problem = f"{where} could not be reached: {exc!r}"
            if attempt > retries:
                raise InvocationFailed(problem, model_error=False, unreachable=True) from exc
        else:
            if response.status_code < 400:
                return Answer(response.content, response.headers.get("content-type"))
            detail = response.text.strip().replace("\n", " ")[:_DETAIL_CHARS]
            problem = f"{where} answered {response.status_code}: {detail}"
            if response.status_code not in RETRIED_STATUSES or attempt > retries:
                raise InvocationFailed(problem, model_error=response.status_code not in RETRIED_STATUSES)
        time.sleep(RETRY_PAUSE_SECONDS * attempt)
