"""Runs that drive other jobs from a thread of their own (a tuning job's loop, an AutoML
job's steps, a pipeline execution): they hold no job slot, and shutdown waits for them."""

from __future__ import annotations

import threading
from collections.abc import Callable


class RunThreads:
    """The threads of one service's runs: started by name, joined at shutdown."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, target: Callable[[str], None], name: str) -> None:
        """Runs `target(name)` in a daemon thread named after the resource."""
        thread = threading.Thread(target=target, args=(name,), name=f"{self._prefix}-{name}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def join(self, timeout: float = 10) -> None:
        """Waits for every run's thread (each up to `timeout` seconds); called once the
        service has asked its runs to end."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=timeout)
