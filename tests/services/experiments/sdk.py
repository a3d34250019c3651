"""A SageMaker SDK v2 session against the test server, configured as `sagebox env` does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from sagebox.cli.env import sdk_config


@contextmanager
def sdk_session(folder: Path, bucket: str) -> Iterator[Any]:
    """A `sagemaker.Session` whose default bucket is `bucket` (created here), with the SDK's
    telemetry off; the environment is restored afterwards."""
    boto3.client("s3").create_bucket(Bucket=bucket)
    config = folder / "sagemaker-sdk-config.yaml"
    config.write_text(sdk_config(bucket))
    saved = {name: os.environ.get(name) for name in ("SAGEMAKER_USER_CONFIG_OVERRIDE", "SAGEMAKER_SUPPRESS_V2_WARNING")}
    os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = str(config)
    os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    try:
        import sagemaker

        yield sagemaker.Session(default_bucket=bucket)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
