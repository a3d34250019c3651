"""An in-process stand-in for a model server instance, for the dispatcher's unit tests.

It answers text/csv requests with one line per input row: the sum of the row's
values; a row with a value that is not a number is a 400 answer, as a model's is. One
made to vanish after some requests refuses every later one and no longer answers /ping,
as an instance whose node was lost.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from sagebox.services.transform.instances import Answer, InvocationFailed


class SummingInstance:
    def __init__(self, delay: float = 0.0, index: int = 1, vanishes_after: int | None = None) -> None:
        self.delay = delay
        self.index = index
        self.requests: list[bytes] = []
        self.notes: list[str] = []
        self.lost = False
        self._vanishes_after = vanishes_after
        self._gone = False
        self._lock = threading.Lock()

    def where(self) -> str:
        return f"instance {self.index} on 10.0.0.{self.index}"

    def note(self, line: str) -> None:
        self.notes.append(line)

    def gone(self, failure: InvocationFailed) -> bool:
        return self._gone

    def invoke(self, client: Any, body: bytes, *, content_type: str | None, accept: str | None,
               timeout: float, retries: int) -> Answer:
        with self._lock:
            if self._vanishes_after is not None and len(self.requests) >= self._vanishes_after:
                self._gone = True  # as a server whose machine went away: connections refused
            if self._gone:
                raise InvocationFailed(
                    "the model could not be reached: refused", model_error=False, unreachable=True
                )
            self.requests.append(body)
        if self.delay:
            time.sleep(random.uniform(0, self.delay))
        sums = []
        for line in body.decode().splitlines():
            try:
                sums.append(repr(sum(float(v) for v in line.split(","))))
            except ValueError as exc:
                raise InvocationFailed(f"the model answered 400: {exc}", model_error=True) from exc
        return Answer("\n".join(sums).encode(), "text/csv")
