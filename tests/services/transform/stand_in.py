"""An in-process stand-in for a model server instance, for the dispatcher's unit tests.

It answers text/csv requests with one line per input row: the sum of the row's
values; a row with a value that is not a number is a 400 answer, as a model's is.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from sagebox.services.transform.instances import Answer, InvocationFailed


class SummingInstance:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[bytes] = []
        self._lock = threading.Lock()

    def invoke(self, client: Any, body: bytes, *, content_type: str | None, accept: str | None,
               timeout: float, retries: int) -> Answer:
        with self._lock:
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
