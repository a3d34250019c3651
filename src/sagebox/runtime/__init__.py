"""Where jobs and model servers run: the executor seam, the container contract, logs, metrics.

executor = open_executor(None)   # local processes (the default)
"""

from __future__ import annotations

from sagebox.runtime.executor import Executor
from sagebox.runtime.local_executor import LocalProcessExecutor


def open_executor(url: str | None = None) -> Executor:
    """The executor a URL names: ``local`` (or nothing) runs every host as a local process."""
    if url in (None, "", "local"):
        return LocalProcessExecutor()
    raise ValueError(f"unknown executor {url!r}: sagebox runs jobs with 'local' processes")
