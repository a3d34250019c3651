"""A bounded pool of job slots: at most N jobs run at once, the rest wait in order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class JobScheduler:
    def __init__(self, max_concurrent_jobs: int) -> None:
        if max_concurrent_jobs < 1:
            raise ValueError(f"max_concurrent_jobs must be at least 1, got {max_concurrent_jobs}")
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent_jobs, thread_name_prefix="job")

    def submit(self, label: str, work: Callable[[], None]) -> Future[None]:
        def run() -> None:
            try:
                work()
            except Exception:  # a job driver must never take its slot down with it
                log.exception("job %s ended with an unexpected error", label)

        return self._pool.submit(run)

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
