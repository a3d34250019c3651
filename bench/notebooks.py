"""How soon a notebook instance is InService: CreateNotebookInstance to a JupyterLab
server that answers its presigned URL.

A real `sagebox serve`; each round creates a notebook instance (ml.t3.medium, no
lifecycle configuration), polls DescribeNotebookInstance every 50 ms until InService,
then opens CreatePresignedNotebookInstanceUrl's URL with httpx and checks that
JupyterLab answers, then stops and deletes the instance. Target (issue 17): InService
within 10 s of CreateNotebookInstance (SageMaker's own take minutes: it starts an EC2
instance). There is no local reference to run beside it; the reference column gives the
time until JupyterLab answers the presigned URL.

Run ``python -m bench notebooks``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import httpx

from sagebox.cli.server_process import ServerProcess

ROUNDS = 3
TARGET_SECONDS = 10.0
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def _until(sagemaker: Any, name: str, statuses: tuple[str, ...], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
        if status in statuses or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def run() -> dict[str, Any]:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    in_service: list[float] = []
    answering: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder)).start()
        try:
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            for round_ in range(ROUNDS):
                name = f"bench-notebook-{round_}"
                started = time.monotonic()
                sagemaker.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE)
                status = _until(sagemaker, name, ("InService", "Failed"))
                if status != "InService":
                    raise RuntimeError(f"notebook instance {name} ended {status}")
                in_service.append(time.monotonic() - started)
                url = sagemaker.create_presigned_notebook_instance_url(NotebookInstanceName=name)["AuthorizedUrl"]
                answer = httpx.get(url, follow_redirects=True, timeout=30)
                if answer.status_code != 200 or "JupyterLab" not in answer.text:
                    raise RuntimeError(f"the presigned URL answered {answer.status_code}")
                answering.append(time.monotonic() - started)
                sagemaker.stop_notebook_instance(NotebookInstanceName=name)
                _until(sagemaker, name, ("Stopped", "Failed"))
                sagemaker.delete_notebook_instance(NotebookInstanceName=name)
        finally:
            server.stop()
    p50 = statistics.median(in_service)
    load = os.getloadavg()[0]
    result = {
        "name": "notebooks",
        "rows": [
            {
                "measure": f"CreateNotebookInstance -> InService: median s of {ROUNDS} (each)",
                "sagebox": f"{p50:.2f} ({', '.join(f'{s:.2f}' for s in in_service)})",
                "reference": f"{statistics.median(answering):.2f} (to JupyterLab answering its presigned URL)",
                "target": f"<= {TARGET_SECONDS:.0f} s",
                "met": "yes" if max(in_service) <= TARGET_SECONDS else "no",
            }
        ],
        "notes": (
            f"`sagebox serve` on SQLite with the `notebook` extra; {ROUNDS} rounds of create, wait (DescribeNotebookInstance "
            "every 50 ms), open the presigned URL with httpx (JupyterLab's page), stop, delete. InService means the "
            f"JupyterLab server answers on its port. The machine's 1-minute load average was {load:.1f} at the end."
        ),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
