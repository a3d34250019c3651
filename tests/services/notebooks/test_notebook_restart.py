"""Notebook instances on servers of their own: a server killed without shutting down leaves a
JupyterLab process behind, which the next server ends before starting the instance again,
its files kept; a server whose notebook Python lacks JupyterLab fails instances clearly."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import httpx
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.services.notebooks.test_notebook_instances import ROLE, lab_of, needs_lab, wait_status


def client(server: ServerProcess):  # noqa: ANN201 - boto3 clients are dynamically typed
    return boto3.client(
        "sagemaker",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@needs_lab
def test_in_service_instance_is_started_again_after_a_crash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = ServerProcess(home).start()
    try:
        sagemaker = client(server)
        sagemaker.create_notebook_instance(
            NotebookInstanceName="kept", InstanceType="ml.t3.medium", RoleArn=ROLE
        )
        assert (
            wait_status(sagemaker, "kept", {"InService", "Failed"})["NotebookInstanceStatus"]
            == "InService"
        )
        old_base, old_token = lab_of(sagemaker, "kept")
        written = httpx.put(
            f"{old_base}/api/contents/notes.txt",
            params={"token": old_token},
            json={"type": "file", "format": "text", "content": "before the crash"},
            timeout=10,
        )
        assert written.status_code in (200, 201)
    finally:
        server.kill()
    # The crashed server's Lab is still up: it is in its own process group.
    assert (
        httpx.get(f"{old_base}/api/status", params={"token": old_token}, timeout=5).status_code
        == 200
    )

    server = ServerProcess(home).start()
    try:
        sagemaker = client(server)
        described = wait_status(sagemaker, "kept", {"InService", "Failed"})
        assert described["NotebookInstanceStatus"] == "InService", described.get("FailureReason")
        with pytest.raises(httpx.HTTPError):  # the orphan was ended
            httpx.get(f"{old_base}/api/status", params={"token": old_token}, timeout=5)
        base, token = lab_of(sagemaker, "kept")
        notes = httpx.get(
            f"{base}/api/contents/notes.txt", params={"token": token, "content": 1}, timeout=10
        )
        assert notes.json()["content"] == "before the crash"
        sagemaker.stop_notebook_instance(NotebookInstanceName="kept")
        wait_status(sagemaker, "kept", {"Stopped"})
    finally:
        server.stop()


def test_without_jupyterlab_the_instance_fails_saying_what_to_install(tmp_path: Path) -> None:
    # A Python that cannot import JupyterLab: this one without its site-packages.
    python = tmp_path / "python-without-site"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    python.chmod(0o755)
    server = ServerProcess(tmp_path / "home", {"SAGEBOX_NOTEBOOK_PYTHON": str(python)}).start()
    try:
        sagemaker = client(server)
        sagemaker.create_notebook_instance(
            NotebookInstanceName="bare", InstanceType="ml.t3.medium", RoleArn=ROLE
        )
        described = wait_status(sagemaker, "bare", {"InService", "Failed"})
        assert described["NotebookInstanceStatus"] == "Failed"
        assert "`notebook` extra" in described["FailureReason"]
        sagemaker.delete_notebook_instance(NotebookInstanceName="bare")
    finally:
        server.stop()
