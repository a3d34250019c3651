"""`sagebox serve`: the edge on one loopback port."""

from __future__ import annotations

import logging
import socket
import sys
from dataclasses import replace

import uvicorn

from sagebox.cli.private_home import make_home_private
from sagebox.config import Settings
from sagebox.edge.app import EdgeApp
from sagebox.edge.origin import is_loopback
from sagebox.runtime import open_executor
from sagebox.services.access_keys import AccessKeyService
from sagebox.services.platform import Platform


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def binding_refusal(settings: Settings) -> str | None:
    """Why the server must not start on its address, or None."""
    if is_loopback(settings.host) or settings.auth_required or settings.insecure:
        return None
    return (
        f"sagebox serve: refusing to listen on {settings.host} without --auth. Beyond loopback, "
        "anyone who reaches this port could call the API, and the API runs code on this machine "
        "(training, processing and model-server processes run as your user). Start it with --auth "
        "(SAGEBOX_AUTH=sigv4) and create a key with `sagebox keys create`, or pass --insecure "
        "(SAGEBOX_INSECURE=1) if the network around it is trusted."
    )


def console_host(host: str) -> str:
    """Where a browser on this machine opens the console: a wildcard address is not one."""
    return "127.0.0.1" if host in ("0.0.0.0", "[::]", "") else host


def executor_refusal(settings: Settings) -> str | None:
    """Why the executor the settings name cannot be used (a bad URL, an unreachable cluster), or None."""
    try:
        open_executor(settings.executor).connect()
    except (ValueError, ConnectionError) as exc:
        return f"sagebox serve: cannot use the executor {settings.executor!r} (--executor, SAGEBOX_EXECUTOR): {exc}"
    return None


# How long a thread may keep the interpreter lock while another waits for it (CPython's
# default is 5 ms). The server's threads hand it back and forth all the time: the event
# loop and the metric writer (services/experiments/metric_writer.py) each let go of it
# around every socket or SQLite call, and then wait up to this long to get it back while
# the other runs Python. Half a millisecond, about one group commit's work, took
# BatchPutMetrics from about 4,000 to 6,000-8,000 points/s on the loaded two-core bench
# machine, at no more CPU per point (docs/benchmarks.md, experiment_metrics).
SWITCH_INTERVAL_SECONDS = 0.0005


def serve(settings: Settings, log_level: str = "warning") -> int:
    refusal = binding_refusal(settings) or executor_refusal(settings)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    make_home_private(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    # The port actually bound (--port 0 picks one): jobs reach the server there.
    settings = replace(settings, port=port)
    platform = Platform(settings)
    if settings.auth_required and not AccessKeyService(platform.store, settings.account_id).list():
        print(
            "sagebox serve: --auth is on and there are no access keys yet; "
            f"create one with `sagebox keys create --home {settings.home}`",
            file=sys.stderr,
            flush=True,
        )
    app = EdgeApp(platform)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=15)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"sagebox listening on http://{shown}:{port} (home {settings.home}, auth {settings.auth})",
        flush=True,
    )
    if platform.leases.shared:
        print(
            f"server id {platform.leases.server_id}: background work shared with the other servers of this store "
            f"through leases of {platform.leases.seconds:g} s",
            flush=True,
        )
    sign_in = " (sign in with an access key pair)" if settings.auth_required else ""
    print(f"console: http://{console_host(shown)}:{port}/ui/{sign_in}", flush=True)
    server.run(sockets=[sock])
    return 0
