"""The leases this server holds: exactly one server drives each resource's background work.

Several `sagebox serve` processes may share one PostgreSQL store. Whatever runs in the
background for a resource (a job's run, a tuning loop, an AutoML job's steps, a pipeline
execution) is driven by the server holding the resource's lease in the store
(`store/leases.py`). A server takes the lease of every resource it creates, renews its
leases every `seconds / 3`, and lets go of one when its work ends. Every `scan_seconds`
it calls its watchers: the services adopt active resources whose lease has expired (their
server died; adoption is the recovery a restarted server runs, for one resource) and act
on what other servers recorded for the resources it drives (a Stop received elsewhere).
A server that cannot renew for `seconds`, or finds a lease taken, stops driving that
resource: its `on_lost` is called.

Embedded (SQLite, one server), there is no shared store to coordinate through: every
lease is this server's, nothing is written and no thread runs.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable

from sagebox.store import LeaseRepository

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
SCAN_SECONDS = 2.0

LostListener = Callable[[], None]
Watcher = Callable[[], None]


def new_server_id() -> str:
    """This server's name in the leases table: host, process and a random part."""
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"


class Leases:
    """Claims, adopts, renews and releases this server's leases."""

    def __init__(
        self,
        repository: LeaseRepository | None,
        *,
        server_id: str | None = None,
        seconds: float = LEASE_SECONDS,
        scan_seconds: float = SCAN_SECONDS,
    ) -> None:
        if seconds <= 0:
            raise ValueError(f"a lease must last a positive number of seconds, not {seconds}")
        self._repository = repository
        self.server_id = server_id or new_server_id()
        self.seconds = seconds
        self.renew_seconds = seconds / 3
        self.scan_seconds = min(scan_seconds, self.renew_seconds)
        self._held: dict[str, LostListener | None] = {}
        self._watchers: list[Watcher] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_renewal = time.monotonic()

    @property
    def shared(self) -> bool:
        """Whether other servers may share the store (leases are kept in it)."""
        return self._repository is not None

    # -- one resource -------------------------------------------------------------------

    def claim(self, arn: str, on_lost: LostListener | None = None) -> bool:
        """Takes the lease of a resource this server is creating or already drives; False
        when another server holds it."""
        if self._repository is not None and not self._repository.acquire(
            arn, self.server_id, self.seconds
        ):
            return False
        with self._lock:
            self._held[arn] = on_lost
        return True

    def adopt(self, arn: str, on_lost: LostListener | None = None) -> bool:
        """Takes the lease of a resource no server drives (at start, or its server died):
        False when this server drives it already or another one holds it."""
        with self._lock:
            if arn in self._held:
                return False
        return self.claim(arn, on_lost)

    def holds(self, arn: str) -> bool:
        with self._lock:
            return arn in self._held

    def release(self, arn: str) -> None:
        """Lets go of a resource whose background work has ended."""
        with self._lock:
            held = self._held.pop(arn, False) is not False
        if held and self._repository is not None:
            try:
                self._repository.release(arn, self.server_id)
            except Exception:  # it expires by itself; the work has ended either way
                log.exception("could not release the lease of %s", arn)

    def orphans(self, arns: Iterable[str]) -> list[str]:
        """Which of `arns` no server drives: not this one, and no live lease of another
        server in the store (a live one under this server's id is from its previous run)."""
        with self._lock:
            candidates = [arn for arn in arns if arn not in self._held]
        if self._repository is None or not candidates:
            return candidates
        live = self._repository.live(candidates, other_than=self.server_id)
        return [arn for arn in candidates if arn not in live]

    # -- the background thread ----------------------------------------------------------

    def watch(self, watcher: Watcher) -> None:
        """Calls `watcher` every `scan_seconds` while leases are shared."""
        self._watchers.append(watcher)

    def start(self) -> None:
        if self._repository is None or self._thread is not None:
            return
        self._last_renewal = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops renewing and watching (a server shutting down)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def release_all(self) -> None:
        """Hands every lease back, so other servers adopt what this one leaves at once."""
        with self._lock:
            self._held.clear()
        if self._repository is not None:
            try:
                self._repository.release_all(self.server_id)
            except Exception:
                log.exception(
                    "could not release this server's leases; they expire in %.0f s", self.seconds
                )

    def _loop(self) -> None:
        next_renewal = time.monotonic() + self.renew_seconds
        while not self._stopped.wait(self.scan_seconds):
            if time.monotonic() >= next_renewal:
                self.renew()
                next_renewal = time.monotonic() + self.renew_seconds
            for watcher in list(self._watchers):
                if self._stopped.is_set():
                    return
                try:
                    watcher()
                except Exception:
                    log.exception(
                        "a lease watcher failed; it runs again in %.0f s", self.scan_seconds
                    )

    def renew(self) -> None:
        """Extends every lease held; those taken by another server (or not renewed for a
        whole lease period) are lost, and their listeners told."""
        if self._repository is None:
            return
        with self._lock:
            arns = list(self._held)
        try:
            kept = self._repository.renew(arns, self.server_id, self.seconds)
            self._last_renewal = time.monotonic()
        except Exception:
            log.exception("could not renew this server's %d leases", len(arns))
            if time.monotonic() - self._last_renewal < self.seconds:
                return
            kept = set()  # unrenewed for a whole lease: another server may drive them now
        lost: list[tuple[str, LostListener | None]] = []
        with self._lock:
            for arn in arns:
                if arn not in kept and arn in self._held:
                    lost.append((arn, self._held.pop(arn)))
        for arn, listener in lost:
            log.error("lost the lease of %s to another server; no longer driving it", arn)
            if listener is not None:
                try:
                    listener()
                except Exception:
                    log.exception("the lease listener of %s failed", arn)
