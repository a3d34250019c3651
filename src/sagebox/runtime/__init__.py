"""Where jobs and model servers run: the executor seam, the container contract, logs, metrics.

executor = open_executor(None)   # local processes (the default)
executor = open_executor("ray://head:10001?resource_scale=0.5")   # hosts on a Ray cluster
"""

from __future__ import annotations

from sagebox.runtime.executor import Executor
from sagebox.runtime.local_executor import LocalProcessExecutor


def open_executor(url: str | None = None) -> Executor:
    """The executor a URL names: ``local`` (or nothing) runs every host as a local process;
    ``ray``, ``ray://auto`` or ``ray://HOST:PORT`` runs them on a Ray cluster (the `ray`
    extra), see runtime/ray_executor.py."""
    if url in (None, "", "local"):
        return LocalProcessExecutor()
    if url == "ray" or url.startswith("ray://"):
        try:
            from sagebox.runtime.ray_executor import RayExecutor
        except ImportError as exc:
            raise ValueError(
                f"executor {url!r} needs Ray: install sagebox with the 'ray' extra (pip install 'sagebox[ray]')"
            ) from exc
        return RayExecutor.from_url(url)
    raise ValueError(
        f"unknown executor {url!r}: use 'local' (processes on this machine) or 'ray://HOST:PORT' / 'ray://auto' (a Ray cluster)"
    )
