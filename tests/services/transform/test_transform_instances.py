"""Invoking an instance's chain of containers: headers, pipelines, retries (httpx's MockTransport)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sagebox.runtime import open_executor
from sagebox.services.transform import instances as instances_module
from sagebox.services.transform.instances import ContainerSetup, InvocationFailed, TransformInstance


def chain(tmp_path: Path, containers: int) -> TransformInstance:
    setups = [ContainerSetup("sagebox.serving.handlers.xgboost", tmp_path / str(n), {}) for n in range(containers)]
    return TransformInstance(1, setups, tmp_path / "logs", open_executor())


def test_a_pipeline_passes_each_answer_on_with_its_content_type(tmp_path: Path) -> None:
    instance = chain(tmp_path, 2)
    first, second = (server.url for server in instance.servers)
    seen: list[tuple[str, str | None, str | None, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        seen.append((url, request.headers.get("content-type"), request.headers.get("accept"), request.content))
        if url.startswith(first):
            return httpx.Response(200, content=b"1,2\n", headers={"content-type": "text/csv"})
        return httpx.Response(200, content=b'{"score": 3}\n', headers={"content-type": "application/jsonlines"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        result = instance.invoke(
            client, b'{"a": 1}', content_type="application/json", accept="application/jsonlines", timeout=5, retries=0
        )
    assert result.body == b'{"score": 3}\n' and result.content_type == "application/jsonlines"
    assert seen[0][:2] == (f"{first}/invocations", "application/json") and seen[0][2] != "application/jsonlines"
    assert seen[1] == (f"{second}/invocations", "text/csv", "application/jsonlines", b"1,2\n")


def test_busy_answers_are_retried_and_model_errors_are_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances_module, "RETRY_PAUSE_SECONDS", 0)
    instance = chain(tmp_path, 1)
    statuses = [503, 502, 200]

    def busy_then_fine(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0), content=b"0.5")

    with httpx.Client(transport=httpx.MockTransport(busy_then_fine)) as client:
        assert instance.invoke(client, b"1", content_type="text/csv", accept=None, timeout=5, retries=3).body == b"0.5"

    calls = []

    def bad_request(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, content=b"could not parse\nrow 3")

    with httpx.Client(transport=httpx.MockTransport(bad_request)) as client, pytest.raises(InvocationFailed) as caught:
        instance.invoke(client, b"x", content_type="text/csv", accept=None, timeout=5, retries=3)
    assert len(calls) == 1 and caught.value.model_error
    assert caught.value.message == "the model answered 400: could not parse row 3"


def test_connection_failures_give_up_after_the_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instances_module, "RETRY_PAUSE_SECONDS", 0)
    instance = chain(tmp_path, 1)
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client, pytest.raises(InvocationFailed) as caught:
        instance.invoke(client, b"1", content_type="text/csv", accept=None, timeout=5, retries=2)
    assert len(calls) == 3 and not caught.value.model_error and caught.value.unreachable
    assert "could not be reached" in caught.value.message


def test_execution_parameters_fall_back_to_nothing(tmp_path: Path) -> None:
    instance = chain(tmp_path, 1)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(404))) as client:
        assert instance.execution_parameters(client) == {}
    body = {"MaxConcurrentTransforms": 3, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=body))) as client:
        assert instance.execution_parameters(client) == body
