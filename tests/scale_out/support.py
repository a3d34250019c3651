"""What the scale-out modules that serve an XGBoost model share: a client of a server, a
small booster, its model on a server, and a server on the Ray test cluster."""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost

from sagebox.cli.server_process import ServerProcess
from tests.conftest import CLIENT_ENV
from tests.ray_cluster import EXECUTOR_URL
from tests.services.training.jobs import ROLE, unique

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
_COEFFICIENTS = [1.0, -2.0, 0.5, 3.0]
PLACED = re.compile(r"sagebox: model-server listens on (\S+):(\d+) on Ray node (\w+)")
LOST = "was lost with its Ray node"


def client(server: ServerProcess, name: str, **options: Any) -> Any:
    return boto3.client(
        name,
        endpoint_url=server.endpoint_url,
        aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=CLIENT_ENV["AWS_DEFAULT_REGION"],
        **options,
    )


def small_booster(rows: int, features: int, depth: int, rounds: int) -> xgboost.Booster:
    """A regression booster on `rows` x `features` normal values (seed 0, at most 4 features)."""
    x = np.random.default_rng(0).normal(size=(rows, features))
    return xgboost.train(
        {"objective": "reg:squarederror", "max_depth": depth},
        xgboost.DMatrix(x, label=x @ _COEFFICIENTS[:features]),
        num_boost_round=rounds,
    )


def xgboost_model(server: ServerProcess, booster: xgboost.Booster, prefix: str) -> tuple[str, str]:
    """A new bucket holding `booster` as model.tar.gz, and a model serving it with the built-in
    XGBoost image on `server`: (bucket, model name)."""
    s3, sagemaker = client(server, "s3"), client(server, "sagemaker")
    bucket = unique(prefix)
    s3.create_bucket(Bucket=bucket)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        raw = bytes(booster.save_raw("json"))
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    s3.put_object(Bucket=bucket, Key="model/model.tar.gz", Body=archive.getvalue())
    model = unique("model")
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{bucket}/model/model.tar.gz",
        },
    )
    return bucket, model


def ray_server(tmp_path_factory: pytest.TempPathFactory, label: str) -> ServerProcess:
    """A started server on the Ray test cluster. Models reach the nodes through Ray, whatever
    the object store: SQLite and a local object folder keep the start short."""
    home = tmp_path_factory.mktemp(f"{label}-home")
    return ServerProcess(home, CLIENT_ENV, ["--executor", EXECUTOR_URL]).start()


def placements(
    server: ServerProcess, group: str, flags: dict[str, str], prefix: str = ""
) -> dict[str, dict[str, Any]]:
    """Each model server's node and address from its log stream in `group` (streams starting
    with `prefix`), and for each of `flags` whether a line of the stream holds its text."""
    logs = client(server, "logs")
    found = {}
    by_prefix = {"logStreamNamePrefix": prefix} if prefix else {}
    streams = logs.describe_log_streams(logGroupName=group, **by_prefix)
    for stream in streams["logStreams"]:
        name = stream["logStreamName"]
        events = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
        messages = [e["message"] for e in events["events"]]
        placed = [m.group(1, 2, 3) for m in map(PLACED.search, messages) if m]
        if placed:
            (address, port, node), *_ = placed
            found[name] = {"address": address, "port": int(port), "node": node}
            for key, text in flags.items():
                found[name][key] = any(text in m for m in messages)
    return found
