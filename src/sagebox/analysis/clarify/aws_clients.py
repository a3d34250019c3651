"""The AWS clients a Clarify job uses (the SageMaker API, the runtime, S3), configured by the
job's environment (AWS_ENDPOINT_URL and credentials: the sagebox server), and downloads from S3."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from sagebox.analysis.clarify.errors import ClarifyError


def clients() -> tuple[Any, Any, Any]:
    import boto3

    return boto3.client("sagemaker"), boto3.client("sagemaker-runtime"), boto3.client("s3")


def downloader(s3: Any, scratch: Path) -> Any:
    def download(uri: str, into: Path | None = None) -> Path:
        if not uri.startswith("s3://"):
            raise ClarifyError(f"{uri!r} is not an S3 URI (s3://bucket/key).")
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        target = into or Path(tempfile.mkdtemp(dir=scratch))
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            keys = [
                item["Key"]
                for page in pages
                for item in page.get("Contents", [])
                if not item["Key"].endswith("/")
            ]
            if not keys:
                raise ClarifyError(f"Failed to download data: there is no object at {uri}.")
            for key in keys:
                path = target / (key[len(prefix) :].lstrip("/") or os.path.basename(key))
                path.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, key, str(path))
        except ClarifyError:
            raise
        except Exception as exc:  # noqa: BLE001 - any S3 failure is a download failure
            raise ClarifyError(f"Failed to download data from {uri}: {exc}") from exc
        return (
            target
            if into is not None or len(keys) > 1
            else target / (keys[0][len(prefix) :].lstrip("/") or os.path.basename(keys[0]))
        )

    return download
