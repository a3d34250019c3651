"""`sagebox serve`: the edge on one loopback port."""

from __future__ import annotations

import logging
import socket

import uvicorn

from sagebox.config import Settings
from sagebox.edge.app import EdgeApp
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


def serve(settings: Settings, log_level: str = "warning") -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    app = EdgeApp(Platform(settings))
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=15)
    server = uvicorn.Server(config)
    print(f"sagebox listening on http://{host}:{port} (home {settings.home})", flush=True)
    server.run(sockets=[sock])
