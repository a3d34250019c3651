"""Stopping a model server: at once when idle, after its answers when a request is in flight."""

from __future__ import annotations

import signal
import textwrap
import threading
import time
from pathlib import Path

import httpx

from tests.serving.model_server import ModelServerProcess

SLOW_SCRIPT = textwrap.dedent(
    """
    import pathlib
    import time

    def model_fn(model_dir):
        return pathlib.Path(model_dir)

    def transform_fn(model, body, content_type, accept):
        (model / "started").write_text("yes")
        time.sleep(1.5)
        return b"answered", "text/plain"
    """
)


def slow_server(base_dir: Path) -> ModelServerProcess:
    """A script-mode server whose every request takes 1.5 s and marks when it started."""
    code = base_dir / "model" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(SLOW_SCRIPT)
    return ModelServerProcess(base_dir, handler="sagebox.serving.handlers.script", env={"SAGEMAKER_PROGRAM": "inference.py"}).start()


def test_an_idle_server_ends_by_sigterm(tmp_path: Path) -> None:
    server = slow_server(tmp_path)
    process = server.process
    assert process is not None
    with server.client() as client:  # a kept-alive connection carrying no request
        assert client.get("/ping").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == -signal.SIGTERM


def test_a_request_in_flight_is_answered_before_the_server_ends(tmp_path: Path) -> None:
    server = slow_server(tmp_path)
    process = server.process
    assert process is not None
    answers: list[httpx.Response] = []

    def invoke() -> None:
        with server.client() as client:
            answers.append(client.post("/invocations", content=b"1,2,3", headers={"Content-Type": "text/csv"}))

    caller = threading.Thread(target=invoke)
    caller.start()
    started = tmp_path / "model" / "started"
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started.exists()
    process.send_signal(signal.SIGTERM)
    caller.join(timeout=60)
    assert [(a.status_code, a.content) for a in answers] == [(200, b"answered")]
    assert process.wait(timeout=30) == -signal.SIGTERM
