"""A live `sagebox serve --auth` with a key made by `sagebox keys create`, for the auth tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from sagebox.cli.server_process import ServerProcess

SAGEBOX = [sys.executable, "-m", "sagebox.cli.main"]
REGION = "us-east-1"


@dataclass(frozen=True)
class KeyPair:
    access_key_id: str
    secret_access_key: str
    user_name: str


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any AWS or SageMaker settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(extra)
    return env


def keys_command(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAGEBOX, "keys", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=60,
    )


def create_key(home: Path, user: str = "tester") -> KeyPair:
    done = keys_command(home, "create", "--user", user)
    if done.returncode != 0:
        raise RuntimeError(f"sagebox keys create failed: {done.stderr}")
    fields = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    return KeyPair(fields["AccessKeyId"], fields["SecretAccessKey"], fields["UserName"])


def start_server(home: Path, *extra_args: str) -> ServerProcess:
    return ServerProcess(home, extra_args=list(extra_args)).start()


def client(service: str, endpoint_url: str, key: KeyPair | tuple[str, str], **config: Any):  # noqa: ANN201
    """A boto3 client with these credentials only and no retries (refusals come back at once)."""
    access_key_id, secret = (
        (key.access_key_id, key.secret_access_key) if isinstance(key, KeyPair) else key
    )
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        aws_session_token=None,
        config=Config(retries={"max_attempts": 1}, **config),
    )
