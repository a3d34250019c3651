"""How soon a metric line a running training job logs appears on its console page.

A real `sagebox serve`, a training job whose command (ContainerEntrypoint) prints
`loss=<value>` every 0.4 s, 25 times, with a MetricDefinition for it, and the job's
page open in headless Chromium (Debian's, through Playwright, as in the browser
tests). The page polls its job once a second. Each time the page's loss chart gains a
point, the moment is noted (the page is read every 50 ms) and compared with the time
the line was logged (its CloudWatch Logs event timestamp, read back with boto3 when
the job has ended). Target (issue 17): within 2 s of the metric line being logged.

Run ``python -m bench console_live``; ``run()`` returns the result as a dict.
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

from sagebox.cli.server_process import ServerProcess

LINES = 25
EVERY_SECONDS = 0.4
TARGET_SECONDS = 2.0
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
SCRIPT = f"""
import time
time.sleep(1.0)
for step in range({LINES}):
    print(f"step {{step}} loss={{1.0 / (step + 1):.5f}}", flush=True)
    time.sleep({EVERY_SECONDS})
"""


def _chromium() -> str | None:
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(path).exists():
            return path
    return None


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    if executable is None:
        raise SystemExit("console_live needs Chromium (apt-get install -y chromium)")
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder)).start()
        try:
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            logs = boto3.client("logs", endpoint_url=server.endpoint_url)
            boto3.client("s3", endpoint_url=server.endpoint_url).create_bucket(Bucket="live-bench")
            name = f"live-{int(time.time())}"
            sagemaker.create_training_job(
                TrainingJobName=name,
                AlgorithmSpecification={
                    "TrainingImage": IMAGE, "TrainingInputMode": "File",
                    "ContainerEntrypoint": ["python3", "-u", "-c", SCRIPT],
                    "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
                },
                RoleArn=ROLE,
                OutputDataConfig={"S3OutputPath": "s3://live-bench/output"},
                ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                StoppingCondition={"MaxRuntimeInSeconds": 120},
            )  # fmt: skip
            seen: dict[int, float] = {}  # point count -> when the page first showed it
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, args=["--no-sandbox"]
                )
                page = browser.new_page()
                page.goto(f"{server.endpoint_url}/ui/training-jobs/{name}", wait_until="load")
                deadline = time.time() + 90
                while len(seen) < LINES and time.time() < deadline:
                    count = page.evaluate(
                        "window.sagebox.charts.loss ? window.sagebox.charts.loss.data[1].length : 0"
                    )
                    now = time.time()
                    for n in range(1, count + 1):
                        seen.setdefault(n, now)
                    time.sleep(0.05)
                browser.close()
            stream = logs.describe_log_streams(
                logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
            )["logStreams"][0]["logStreamName"]
            events = logs.get_log_events(
                logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True
            )["events"]
        finally:
            server.stop()
    logged = [e["timestamp"] / 1000 for e in events if "loss=" in e["message"]]
    delays = [seen[n + 1] - at for n, at in enumerate(logged) if n + 1 in seen]
    if len(delays) != LINES:
        raise RuntimeError(f"the page showed {len(seen)} of {LINES} points ({len(logged)} logged)")
    p50, worst = statistics.median(delays), max(delays)
    result = {
        "name": "console_live",
        "rows": [
            {
                "measure": f"metric line logged -> point on the running job's page: p50 / max s over {LINES} lines",
                "sagebox": f"{p50:.2f} / {worst:.2f}",
                "reference": f"{1.0:.1f} (the page's polling interval)",
                "ratio": f"{p50 / 1.0:.2f}",
                "target": f"<= {TARGET_SECONDS:.0f} s",
                "met": "yes" if worst <= TARGET_SECONDS else "no",
            }
        ],  # fmt: skip
        "notes": (
            f"`sagebox serve` on SQLite, a ContainerEntrypoint job printing a metric line every {EVERY_SECONDS} s, "
            "its page in headless Chromium (Playwright) polling once a second; the page is read every 50 ms, the "
            "delay is from the log event's timestamp to the first read that shows the point."
        ),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
