"""Group commit: the metric appends that arrive together share one store transaction.

The store takes one writer at a time (SQLite's write lock; a component's row lock on
PostgreSQL), and each transaction has a fixed cost (BEGIN IMMEDIATE, reading and
rewriting the component's document and its search index rows, COMMIT) that dwarfs
inserting ten points. So an append is not written by the thread that asks for it: it
is queued, and one writer thread takes everything queued so far and hands it to
`write` in one go, which writes it in one transaction (the store folds all the appends
to one trial component into one summary update). While that transaction runs, the next
appends queue up behind it, so the batches grow with the load by themselves; the
writer never waits for more than is already there, so a request waits at most for the
transaction before its own (a few milliseconds) and an idle server adds no delay.

A caller waits until the transaction holding its points has committed: BatchPutMetrics
answers only then, so an accepted point is a stored point that a restart finds
(SageMaker documents BatchPutMetrics as eventually consistent, but nothing here needs
that latitude: committing first costs a request one short wait, not throughput). A
thread waits on a future (`write`); the edge awaits an asyncio future (`write_async`)
without tying up a worker thread per request, and the writer settles all of a batch's
asyncio futures of one event loop with one wake-up of that loop, not one each (a
cross-thread wake-up costs more than the rest of a request's share of the batch).

Appends still queued when the writer is closed are written before `close` returns;
an append after `close` is written by its caller's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar, Union

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

Write = Callable[[Sequence[Item]], Sequence[Result | Exception]]
"""Writes items in one transaction (or, when that fails, fewer at a time) and answers,
for each item in order, what it gave or the error that refused it."""


class MetricWriter(Generic[Item, Result]):
    """Writes items through `write` from one thread, everything queued in one call."""

    def __init__(self, write: Write[Item, Result], name: str = "sagebox-metric-writer") -> None:
        self._write = write
        self._name = name
        self._queue: list[tuple[Item, _Waiter[Result]]] = []
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._closed = False

    def write(self, item: Item) -> Result:
        """Writes `item` and waits for it; returns what writing it gave or raises its error."""
        future: Future[Result] = Future()
        self._submit(item, future)
        return future.result()

    async def write_async(self, item: Item) -> Result:
        """`write` for a coroutine: the event loop goes on while `item` is written."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._submit(item, future)
        return await future

    def _submit(self, item: Item, waiter: _Waiter[Result]) -> None:
        with self._wake:
            if not self._closed:
                self._queue.append((item, waiter))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
                self._wake.notify()
                return
        self._settle([(item, waiter)])  # closed: the caller's thread writes it

    def close(self) -> None:
        """Writes what is queued and stops the writer thread."""
        with self._wake:
            self._closed = True
            thread = self._thread
            self._wake.notify()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                batch, self._queue = self._queue, []
                if not batch:  # closed and drained
                    return
            self._settle(batch)

    def _settle(self, batch: list[tuple[Item, _Waiter[Result]]]) -> None:
        try:
            outcomes = self._write([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(
                    f"metric writer: {len(outcomes)} outcomes for {len(batch)} appends"
                )
        except Exception as exc:  # nothing may leave a caller waiting forever
            log.exception("writing %d metric appends failed", len(batch))
            outcomes = [exc] * len(batch)
        by_loop: dict[
            asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Result], Result | Exception]]
        ] = {}
        for (_, waiter), outcome in zip(batch, outcomes, strict=True):
            if isinstance(waiter, asyncio.Future):
                by_loop.setdefault(waiter.get_loop(), []).append((waiter, outcome))
            else:
                _resolve(waiter, outcome)
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve_all, settled)


_Waiter = Union[Future[Result], "asyncio.Future[Result]"]  # noqa: UP007 - a runtime alias of generics


def _resolve(waiter: _Waiter[Result], outcome: Result | Exception) -> None:
    if waiter.done():  # an awaiting request was cancelled (its client went away)
        return
    if isinstance(outcome, Exception):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)


def _resolve_all(settled: list[tuple[asyncio.Future[Result], Result | Exception]]) -> None:
    for waiter, outcome in settled:
        _resolve(waiter, outcome)
