"""The thread that starts monitoring runs when they are due.

It asks its schedule service to `tick` (start what is due, answer how long until the next
run) and sleeps until then, at most `poll_seconds`, or until `wake` (a schedule was
created, updated or started). `recover` starts it and `shutdown` stops it; the state it
works from (each schedule's next run) lives in the store, so a restarted server picks up
where the previous one stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

log = logging.getLogger(__name__)


class MonitoringScheduler:
    def __init__(self, tick: Callable[[datetime], float | None], poll_seconds: float = 5.0) -> None:
        self._tick = tick
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="monitoring-scheduler", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait = self._poll
            try:
                until = self._tick(datetime.now(UTC))
                if until is not None:
                    wait = max(0.05, min(wait, until))
            except Exception:  # one bad tick must not end the scheduling
                log.exception("the monitoring scheduler's tick failed")
            self._wake.wait(wait)
