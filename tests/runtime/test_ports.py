"""Rendezvous ports are free and outside the ephemeral range outgoing connections use."""

from __future__ import annotations

import socket

from sagebox.runtime import ports


def test_a_rendezvous_port_is_free_and_below_the_ephemeral_range() -> None:
    low = ports._ephemeral_low()
    for _ in range(20):
        port = ports.rendezvous_port()
        assert ports.LOWEST <= port < low
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_a_taken_port_is_not_chosen(monkeypatch) -> None:  # noqa: ANN001 - pytest fixture
    busy = ports.rendezvous_port()  # below the ephemeral range, where neighbours are rarely in use
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        monkeypatch.setattr(ports, "LOWEST", busy)
        monkeypatch.setattr(ports, "_ephemeral_low", lambda: busy + 3)
        assert ports.rendezvous_port() in (busy + 1, busy + 2)
