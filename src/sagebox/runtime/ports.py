"""Ports for a rendezvous that a process other than the one choosing it will bind later.

A port the kernel hands out for ``bind(0)`` comes from the ephemeral range, which is
also where every outgoing connection's local port comes from: between choosing it
and the training script's leader binding it (after importing its framework, seconds
later) a busy machine may give it to a connection. Ports are therefore drawn below
that range, and each is checked to be free when chosen.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_LOW = 32768
LOWEST = 20000
ATTEMPTS = 200


def _ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_LOW


def _bindable(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def rendezvous_port(host: str = "127.0.0.1") -> int:
    """A free port outside the ephemeral range (any free port if none is found there)."""
    high = _ephemeral_low() - 1
    if high > LOWEST:
        for port in random.sample(range(LOWEST, high + 1), min(ATTEMPTS, high + 1 - LOWEST)):
            if _bindable(port, host):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
