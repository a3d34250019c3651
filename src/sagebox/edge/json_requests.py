"""A JSON 1.1 request body turned into the validated input an operation's handler reads.

`read_input` parses (json_body), validates and decodes (json_protocol) in one step and
answers with a small picklable outcome. Bodies of `LARGE_BODY_BYTES` or more are read
in a separate process: `json.loads` is one C call that holds the interpreter lock for
its whole run (about 100 ms for a 4 MB body here), so on a worker thread it would still
stall the event loop, and InvokeEndpoint with it. The worker answers with the decoded
input (null and unknown members dropped, so rarely large) or with the error; a flood of
large invalid bodies keeps that process busy and costs the server's own interpreter
almost nothing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from starlette.concurrency import run_in_threadpool

from sagebox.edge import json_body, json_protocol
from sagebox.edge.errors import AWSError
from sagebox.service_models import operation_model

log = logging.getLogger(__name__)

LARGE_BODY_BYTES = 256 * 1024
READER_PROCESSES = 1

Outcome = tuple[str, Any, str]  # ("input", params, "") or ("error", code, message)


def read_input(service: str, operation: str, body: bytes) -> Outcome:
    """The decoded input of `operation`, or the AWS error its body earns; never raises for bad bodies."""
    model = operation_model(service, operation)
    shape = model.input_shape if model is not None else None
    try:
        params = json_body.parse_object(body)
    except AWSError as exc:
        return ("error", exc.code, exc.message)
    problem = json_protocol.validate(shape, params)
    if problem:
        return ("error", "ValidationException", problem)
    return ("input", json_protocol.parse_input(shape, params), "")


def decoded(outcome: Outcome) -> dict[str, Any]:
    """The input of an outcome, or its AWSError raised."""
    kind, value, message = outcome
    if kind == "error":
        raise AWSError(value, message)
    return value  # type: ignore[no-any-return]


class LargeBodyReader:
    """A small process pool for large bodies, started on first use and rebuilt if a worker dies."""

    def __init__(self, processes: int = READER_PROCESSES) -> None:
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn: the server runs threads, which fork would copy mid-flight.
                self._pool = ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def read(self, service: str, operation: str, body: bytes) -> Outcome:
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, read_input, service, operation, body)
        except BrokenProcessPool:
            log.warning("the process reading large request bodies died; reading this one on a thread")
            self._discard(pool)
            return await run_in_threadpool(read_input, service, operation, body)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


# One per server process, like the thread pool the edge's handlers run on; EdgeApp closes it.
LARGE_BODIES = LargeBodyReader()
