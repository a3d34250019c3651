"""Notebook instances through boto3 against the live server: lifecycle configurations, a real
JupyterLab server opened by its presigned URL, a kernel calling this sagebox, files kept
across Stop/Start, lifecycle scripts run as SageMaker runs them, and the refusals."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import botocore.exceptions
import httpx
import pytest

from sagebox.runtime.notebook_server import jupyterlab_installed

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
needs_lab = pytest.mark.skipif(
    not jupyterlab_installed(),
    reason="JupyterLab is not installed (install sagebox's `notebook` extra)",
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def b64(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


def wait_status(sagemaker: Any, name: str, wanted: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_notebook_instance(NotebookInstanceName=name)
        if described["NotebookInstanceStatus"] in wanted:
            return described
        time.sleep(0.2)
    raise AssertionError(f"{name} never reached {wanted}: {described}")


def lab_of(sagemaker: Any, name: str) -> tuple[str, str]:
    """The Lab's base URL and Jupyter token, from the presigned URL."""
    url = sagemaker.create_presigned_notebook_instance_url(NotebookInstanceName=name)[
        "AuthorizedUrl"
    ]
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}", parse_qs(parsed.query)["token"][0]


def run_in_kernel(base: str, token: str, code: str) -> str:
    """Runs `code` in a new kernel through Jupyter's REST and websocket API; its stdout."""
    import websocket  # websocket-client, which JupyterLab's server brings

    kernel = httpx.post(
        f"{base}/api/kernels", params={"token": token}, json={"name": "python3"}, timeout=30
    ).json()
    ws = websocket.create_connection(
        f"{base.replace('http', 'ws', 1)}/api/kernels/{kernel['id']}/channels?token={token}",
        timeout=60,
    )
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "msg_type": "execute_request",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            }
        )
    )
    out: list[str] = []
    try:
        while True:
            message = json.loads(ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "stream":
                out.append(message["content"]["text"])
            elif kind == "error":
                raise AssertionError("\n".join(message["content"]["traceback"]))
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        ws.close()
        httpx.delete(f"{base}/api/kernels/{kernel['id']}", params={"token": token}, timeout=10)


def test_lifecycle_configs(sagemaker: Any) -> None:
    name = unique("lcc")
    arn = sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, OnStart=[{"Content": b64("echo hi\n")}]
    )["NotebookInstanceLifecycleConfigArn"]
    assert arn.endswith(f":notebook-instance-lifecycle-config/{name}")
    described = sagemaker.describe_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name
    )
    assert base64.b64decode(described["OnStart"][0]["Content"]) == b"echo hi\n"
    assert "OnCreate" not in described
    sagemaker.update_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, OnCreate=[{"Content": b64("echo made\n")}]
    )
    described = sagemaker.describe_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name
    )
    assert base64.b64decode(described["OnCreate"][0]["Content"]) == b"echo made\n"
    listed = sagemaker.list_notebook_instance_lifecycle_configs(NameContains=name)[
        "NotebookInstanceLifecycleConfigs"
    ]
    assert [c["NotebookInstanceLifecycleConfigName"] for c in listed] == [name]
    with pytest.raises(botocore.exceptions.ClientError, match="base64"):
        sagemaker.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=unique("bad"), OnStart=[{"Content": "not base64!"}]
        )
    with pytest.raises(botocore.exceptions.ClientError, match="already exists"):
        sagemaker.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=name
        )
    sagemaker.delete_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        sagemaker.describe_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=name
        )


def test_bad_input(sagemaker: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError, match="RecordNotFound"):
        sagemaker.describe_notebook_instance(NotebookInstanceName=unique("absent"))
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        sagemaker.create_notebook_instance(
            NotebookInstanceName=unique("nb"),
            InstanceType="ml.t3.medium",
            RoleArn=ROLE,
            LifecycleConfigName=unique("absent"),
        )
    with pytest.raises(botocore.exceptions.ClientError, match="RecordNotFound"):
        sagemaker.start_notebook_instance(NotebookInstanceName=unique("absent"))


@needs_lab
def test_notebook_instance_is_a_jupyterlab_server(sagemaker: Any, sagebox_server: Any) -> None:
    config = unique("lcc")
    sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=config,
        OnCreate=[{"Content": b64("echo created >> SageMaker/on-create.txt\n")}],
        OnStart=[{"Content": b64("echo started >> SageMaker/on-start.txt\n")}],
    )
    name = unique("nb")
    started = time.time()
    sagemaker.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        LifecycleConfigName=config,
    )
    assert sagemaker.describe_notebook_instance(NotebookInstanceName=name)[
        "NotebookInstanceStatus"
    ] in ("Pending", "InService")
    described = wait_status(sagemaker, name, {"InService", "Failed"})
    assert described["NotebookInstanceStatus"] == "InService", described.get("FailureReason")
    in_service_seconds = time.time() - started
    assert in_service_seconds < 30
    assert described["NotebookInstanceLifecycleConfigName"] == config
    assert described["Url"].startswith("127.0.0.1:")
    summaries = sagemaker.list_notebook_instances(NameContains=name, StatusEquals="InService")[
        "NotebookInstances"
    ]
    assert [s["NotebookInstanceName"] for s in summaries] == [name]
    assert (
        sagemaker.list_notebook_instances(NotebookInstanceLifecycleConfigNameContains=config)[
            "NotebookInstances"
        ][0]["NotebookInstanceName"]
        == name
    )

    base, token = lab_of(sagemaker, name)
    assert httpx.get(f"{base}/api/status", params={"token": token}, timeout=10).status_code == 200
    # The console lists it, and its Open link is the presigned URL.
    console = sagebox_server.endpoint_url
    listed = httpx.get(f"{console}/ui/notebook-instances", params={"name": name}, timeout=10)
    assert f"/ui/notebook-instances/{name}/open" in listed.text
    opened = httpx.get(f"{console}/ui/notebook-instances/{name}/open", timeout=10)
    assert opened.status_code == 303 and opened.headers["location"].startswith(f"{base}/lab?token=")
    assert httpx.get(f"{base}/api/status", params={"token": "wrong"}, timeout=10).status_code == 403

    # The scripts ran in the instance's folder before it was InService.
    on_create = httpx.get(
        f"{base}/api/contents/on-create.txt", params={"token": token, "content": 1}, timeout=10
    )
    assert on_create.json()["content"] == "created\n"
    # A file written through the Lab's REST API, and a kernel that talks to this sagebox.
    answer = httpx.put(
        f"{base}/api/contents/kept.txt",
        params={"token": token},
        json={"type": "file", "format": "text", "content": "still here"},
        timeout=10,
    )
    assert answer.status_code in (200, 201)
    output = run_in_kernel(
        base,
        token,
        (
            "import boto3\n"
            "names = [n['NotebookInstanceName'] for n in boto3.client('sagemaker').list_notebook_instances("
            f"NameContains='{name}')['NotebookInstances']]\n"
            "print(names)\n"
        ),
    )
    assert output.strip() == str([name])

    # A presigned URL's token opens the Lab until the URL expires (the token file sagebox
    # writes for the Lab's identity provider); the Lab's own token is not in any URL.
    _, presigned = lab_of(sagemaker, name)
    assert (
        httpx.get(f"{base}/api/status", params={"token": presigned}, timeout=10).status_code == 200
    )
    tokens_file = Path(sagebox_server.home) / "notebooks" / name / ".sagebox" / "presigned.json"
    issued = json.loads(tokens_file.read_text())
    assert issued[presigned]["session_ends"] - issued[presigned]["expires"] > 40000  # 12 h default
    issued[presigned]["expires"] = time.time() - 1
    tokens_file.write_text(json.dumps(issued))
    assert (
        httpx.get(f"{base}/api/status", params={"token": presigned}, timeout=10).status_code == 403
    )

    with pytest.raises(
        botocore.exceptions.ClientError,
        match=r"Status \(InService\) not in \(\[Stopped, Failed\]\)",
    ):
        sagemaker.delete_notebook_instance(NotebookInstanceName=name)
    with pytest.raises(botocore.exceptions.ClientError, match="Stopped"):
        sagemaker.update_notebook_instance(NotebookInstanceName=name, VolumeSizeInGB=10)

    sagemaker.stop_notebook_instance(NotebookInstanceName=name)
    stopped = wait_status(sagemaker, name, {"Stopped"})
    assert "Url" not in stopped
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/api/status", params={"token": token}, timeout=5)
    sagemaker.update_notebook_instance(NotebookInstanceName=name, VolumeSizeInGB=10)
    assert sagemaker.describe_notebook_instance(NotebookInstanceName=name)["VolumeSizeInGB"] == 10

    sagemaker.start_notebook_instance(NotebookInstanceName=name)
    assert (
        wait_status(sagemaker, name, {"InService", "Failed"})["NotebookInstanceStatus"]
        == "InService"
    )
    base, token = lab_of(sagemaker, name)
    kept = httpx.get(
        f"{base}/api/contents/kept.txt", params={"token": token, "content": 1}, timeout=10
    ).json()
    assert kept["content"] == "still here"
    on_start = httpx.get(
        f"{base}/api/contents/on-start.txt", params={"token": token, "content": 1}, timeout=10
    )
    assert on_start.json()["content"] == "started\nstarted\n"  # every start
    on_create = httpx.get(
        f"{base}/api/contents/on-create.txt", params={"token": token, "content": 1}, timeout=10
    )
    assert on_create.json()["content"] == "created\n"  # the first start only

    sagemaker.stop_notebook_instance(NotebookInstanceName=name)
    wait_status(sagemaker, name, {"Stopped"})
    sagemaker.delete_notebook_instance(NotebookInstanceName=name)
    deadline = time.time() + 30
    while (
        sagemaker.list_notebook_instances(NameContains=name)["NotebookInstances"]
        and time.time() < deadline
    ):
        time.sleep(0.2)
    with pytest.raises(botocore.exceptions.ClientError, match="RecordNotFound"):
        sagemaker.describe_notebook_instance(NotebookInstanceName=name)


def test_failing_on_start_script_fails_the_instance(sagemaker: Any) -> None:
    config = unique("lcc")
    sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=config,
        OnStart=[{"Content": b64("echo broken >&2\nexit 3\n")}],
    )
    name = unique("nb")
    sagemaker.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        LifecycleConfigName=config,
    )
    described = wait_status(sagemaker, name, {"InService", "Failed"})
    assert described["NotebookInstanceStatus"] == "Failed"
    assert "OnStart failed with exit code 3" in described["FailureReason"]
    sagemaker.delete_notebook_instance(NotebookInstanceName=name)  # allowed when Failed
