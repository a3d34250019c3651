"""Shell programs in a processing job reach /opt/ml: `bash -c` commands and shell scripts among the inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sagebox.runtime.processing_workspace import ProcessingWorkspace
from sagebox.services.processing.command import build_argv, shell_command_index
from tests.archives import tar_gz
from tests.services.processing.jobs import job_request, s3_input, s3_output, unique, wait_for

DATA = "/opt/ml/processing/input/data"
ENTRYPOINT = "/opt/ml/processing/input/entrypoint"
CODE = "/opt/ml/processing/input/code"
# What the SDK's FrameworkProcessor uploads as runproc.sh: unpack the source, run the script.
RUNPROC = f"""#!/bin/bash
cd {CODE}/
tar -xzf sourcedir.tar.gz
set -e
python count.py "$@"
"""
COUNT = """import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--output")
args = parser.parse_args()
rows = open("/opt/ml/processing/input/data/data.csv").read().splitlines()
open(f"{args.output}/count.txt", "w").write(str(len(rows)))
"""


@pytest.fixture(scope="module")
def shell_bucket(s3: Any, processing_bucket: str) -> str:
    """The processing bucket with a runproc.sh and a sourcedir.tar.gz, as FrameworkProcessor uploads them."""
    s3.put_object(
        Bucket=processing_bucket, Key="shell/entrypoint/runproc.sh", Body=RUNPROC.encode()
    )
    s3.put_object(
        Bucket=processing_bucket, Key="shell/code/sourcedir.tar.gz", Body=tar_gz({"count.py": COUNT})
    )
    return processing_bucket


def _framework_job(bucket: str, name: str, **overrides: Any) -> dict[str, Any]:
    return job_request(
        name,
        ["/bin/bash", f"{ENTRYPOINT}/runproc.sh"],
        ["--output", "/opt/ml/processing/output/count"],
        inputs=[
            s3_input("data", f"s3://{bucket}/data/raw", DATA),
            s3_input("code", f"s3://{bucket}/shell/code/", f"{CODE}/"),
            s3_input("entrypoint", f"s3://{bucket}/shell/entrypoint", ENTRYPOINT),
        ],
        outputs=[
            s3_output("count", f"s3://{bucket}/{name}/count", "/opt/ml/processing/output/count")
        ],
        **overrides,
    )


def test_a_shell_script_input_finds_the_container_paths(
    sagemaker: Any, s3: Any, shell_bucket: str
) -> None:
    name = unique("runproc")
    sagemaker.create_processing_job(**_framework_job(shell_bucket, name))
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AppSpecification"]["ContainerEntrypoint"] == [
        "/bin/bash",
        f"{ENTRYPOINT}/runproc.sh",
    ]
    count = s3.get_object(Bucket=shell_bucket, Key=f"{name}/count/count.txt")["Body"].read()
    assert count == b"5"  # the header and four rows


def test_a_bash_command_finds_the_container_paths(
    sagemaker: Any, s3: Any, shell_bucket: str
) -> None:
    name = unique("bash-c")
    command = f"mkdir -p /opt/ml/processing/output/count && wc -l < {DATA}/data.csv > /opt/ml/processing/output/count/lines"
    request = job_request(
        name,
        ["bash", "-c", command],
        inputs=[s3_input("data", f"s3://{shell_bucket}/data/raw", DATA)],
        outputs=[
            s3_output(
                "count", f"s3://{shell_bucket}/{name}/count", "/opt/ml/processing/output/count"
            )
        ],
    )
    sagemaker.create_processing_job(**request)
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AppSpecification"]["ContainerEntrypoint"] == ["bash", "-c", command]
    assert (
        s3.get_object(Bucket=shell_bucket, Key=f"{name}/count/lines")["Body"].read().strip() == b"5"
    )


def test_the_redirect_switch_leaves_shell_scripts_as_given(
    sagemaker: Any, shell_bucket: str
) -> None:
    name = unique("runproc-off")
    sagemaker.create_processing_job(
        **_framework_job(shell_bucket, name, Environment={"SAGEBOX_REDIRECT_OPT_ML": "0"})
    )
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Failed"
    # `cd /opt/ml/...` failed, so tar looked for the archive in the job's working folder
    assert "sourcedir.tar.gz: Cannot open" in described["FailureReason"]


@pytest.mark.parametrize(
    ("command", "index"),
    [
        (["bash", "-c", "ls"], 2),
        (["/bin/sh", "-ec", "ls", "name"], 2),
        (["bash", "-o", "pipefail", "-c", "ls"], 4),
        (["bash", "-x", "/opt/ml/processing/run.sh"], None),
        (["python3", "-c", "print()"], None),
        (["bash", "-c"], None),
    ],
)
def test_the_command_string_of_a_shell_is_found(command: list[str], index: int | None) -> None:
    assert shell_command_index(command) == index


def test_only_a_shell_command_string_is_rewritten_inside(tmp_path: Path) -> None:
    workspace = ProcessingWorkspace(tmp_path)
    argv = build_argv(
        ["sh", "-c", "cat /opt/ml/processing/a x=/opt/ml/b", "x=/opt/ml/c"], workspace
    )
    assert argv == ["sh", "-c", f"cat {tmp_path}/processing/a x={tmp_path}/b", "x=/opt/ml/c"]


def test_python_and_pip_are_the_jobs_own_environment(sagemaker: Any, s3: Any, shell_bucket: str, sagebox_server: Any) -> None:
    name = unique("job-python")
    out = "/opt/ml/processing/output/env"
    command = (
        f"cd {out} && python3 -c 'import sys; print(sys.prefix)' > prefix "
        "&& command -v pip > pip && python3 -c 'import numpy' && echo ok > imports"
    )
    request = job_request(
        name, ["bash", "-c", command],
        outputs=[s3_output("env", f"s3://{shell_bucket}/{name}/env", out)],
    )
    sagemaker.create_processing_job(**request)
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")

    def read(file: str) -> str:
        return s3.get_object(Bucket=shell_bucket, Key=f"{name}/env/{file}")["Body"].read().decode().strip()

    prefix = read("prefix")
    assert prefix.endswith(f"{name}/.sagebox-python") and str(sagebox_server.home) in prefix
    assert read("pip") == f"{prefix}/bin/pip"  # a bare `pip` installs into the job's environment, not the server's
    assert read("imports") == "ok"  # the server's packages are still importable
