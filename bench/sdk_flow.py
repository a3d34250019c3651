"""The SageMaker SDK v2 flow (upload, fit with logs, deploy, predict, delete) end to end.

Runs ``tests/compat/xgboost_estimator.py`` unchanged against a fresh ``sagebox serve``,
in a Python whose ``time.sleep`` adds up how long the SDK itself sleeps between status
checks (``logs_for_job`` polls, ``wait_for_endpoint`` waits 30 s). What remains of the
wall time is sagebox's work, the SDK's own work and the interpreter starting; the
SDK's import is timed on its own. SageMaker itself takes about 15 minutes for this
flow (instance provisioning for training and for the endpoint), which is not measured
here.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sagebox.cli.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "compat" / "xgboost_estimator.py"
RUNS = 3
TARGET_SECONDS = 60.0
PROBE = """
import json, runpy, sys, time
slept, real = [0.0], time.sleep
def counted(seconds):
    slept[0] += max(0.0, seconds)
    real(seconds)
time.sleep = counted
began = time.perf_counter()
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
finally:
    print("SDK_FLOW " + json.dumps({"total": time.perf_counter() - began, "slept": slept[0]}), file=sys.stderr)
"""


def _client_env(server: ServerProcess, folder: Path) -> dict[str, str]:
    sagebox = Path(sys.executable).with_name("sagebox")
    exports = subprocess.run(
        [str(sagebox), "env", "--endpoint-url", server.endpoint_url, "--home", str(folder)],
        capture_output=True, text=True, check=True,
    ).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    for line in exports.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
    env["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    return env


def _flow(server: ServerProcess, folder: Path) -> dict[str, float]:
    env = _client_env(server, folder)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(SCRIPT)], capture_output=True, text=True, cwd=folder, env=env, timeout=600
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the SDK flow failed: {done.stderr[-2000:]}")
    line = next(x for x in done.stderr.splitlines() if x.startswith("SDK_FLOW "))
    inside = json.loads(line.removeprefix("SDK_FLOW "))
    return {"wall": wall, "script": inside["total"], "slept": inside["slept"]}


def _import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sagemaker"], check=True, capture_output=True,
                   env={**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"})
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-sdk-") as scratch:
        server = ServerProcess(Path(scratch) / "home").start()
        try:
            flows = []
            for index in range(RUNS):
                folder = Path(scratch) / f"client-{index}"
                folder.mkdir()
                flows.append(_flow(server, folder))
        finally:
            server.stop()
    imports = statistics.median(_import_seconds() for _ in range(3))
    wall = statistics.median(f["wall"] for f in flows)
    slept = statistics.median(f["slept"] for f in flows)
    working = statistics.median(f["script"] - f["slept"] for f in flows)
    return {
        "name": "sdk_flow",
        "rows": [
            {"measure": "SDK v2 flow 1 wall time (s, median of 3)", "sagebox": f"{wall:.1f}",
             "target": f"< {TARGET_SECONDS:.0f}", "met": "yes" if wall < TARGET_SECONDS else "no"},
            {"measure": "of which the SDK's own sleeps (s)", "sagebox": f"{slept:.1f}",
             "ratio": f"{slept / wall:.2f} of the wall time"},
            {"measure": "of which sagebox and the SDK working (s)", "sagebox": f"{working:.1f}",
             "ratio": f"{working / wall:.2f} of the wall time"},
            {"measure": "importing the SDK (s, part of the wall time)", "sagebox": f"{imports:.1f}"},
        ],
        "notes": (
            "tests/compat/xgboost_estimator.py unchanged: upload_data x2, Estimator.fit(logs=True) on "
            "diabetes (20 rounds), deploy, predict 3 rows with CSVSerializer, delete_endpoint. "
            "Sleeps are the SDK's time.sleep calls between status checks."
        ),
        "runs": flows,
    }
