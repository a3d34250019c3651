"""`sagebox env`: the shell lines that point AWS clients and the SageMaker SDK at a server.

Use it as ``eval "$(sagebox env)"``. It checks that a server answers at the address,
creates the SDK's default bucket there, and writes a SageMaker Python SDK
configuration file (``SAGEMAKER_USER_CONFIG_OVERRIDE``) naming that bucket and
opting out of telemetry, so that ``Session()`` never asks AWS's real STS for an
account id to build a bucket name and never calls home.
"""

from __future__ import annotations

import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path

from sagebox.config import Settings

DEFAULT_BUCKET = "sagebox-default"
CONFIG_FILE = "sagemaker-sdk-config.yaml"
ACCESS_KEY = "sagebox"
SECRET_KEY = "sagebox-secret"


def sdk_config(bucket: str) -> str:
    """The SageMaker Python SDK configuration (its ``config.yaml`` schema)."""
    return (
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  PythonSDK:\n"
        "    Modules:\n"
        "      TelemetryOptOut: true\n"
        "      Session:\n"
        f"        DefaultS3Bucket: {bucket}\n"
    )


def export_lines(endpoint_url: str, region: str, config_path: Path) -> list[str]:
    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config_path),
    }
    lines = ["unset AWS_PROFILE AWS_SESSION_TOKEN"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    return lines


def _answers(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/_sagebox/health", timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _ensure_bucket(endpoint_url: str, region: str, bucket: str) -> None:
    import boto3
    from botocore.exceptions import ClientError

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def run_env(settings: Settings, endpoint_url: str | None, bucket: str) -> int:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = (endpoint_url or f"http://{host}:{settings.port}").rstrip("/")
    if not _answers(url):
        print(
            f"sagebox env: no sagebox server answers at {url}; start one with `sagebox serve` "
            "(or pass --endpoint-url / --port)",
            file=sys.stderr,
        )
        return 1
    _ensure_bucket(url, settings.region, bucket)
    settings.home.mkdir(parents=True, exist_ok=True)
    config_path = (settings.home / CONFIG_FILE).resolve()
    temporary = config_path.with_name(f".{CONFIG_FILE}.tmp")
    temporary.write_text(sdk_config(bucket), encoding="utf-8")
    temporary.replace(config_path)
    print("\n".join(export_lines(url, settings.region, config_path)))
    return 0
