"""The CloudWatch metrics a monitoring execution leaves, published once it has ended.

Model Monitor's containers write metric lines (PutMetricData's MetricData members, without
a namespace) under ``/opt/ml/output/metrics/cloudwatch`` when ``publish_cloudwatch_metrics``
is Enabled; SageMaker publishes them into the monitoring type's namespace
(``aws/sagemaker/Endpoints/data-metrics``, ``.../model-metrics``, ...). Lines that do not
read as metrics are skipped and logged, never failing the execution.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sagebox.runtime.processing_workspace import job_root

log = logging.getLogger(__name__)
METRICS_FOLDER = Path("output") / "metrics" / "cloudwatch"
BATCH = 500


class MetricPublisher(Protocol):
    def publish(self, namespace: str, metric_data: list[dict[str, Any]]) -> None: ...


def metric_files(jobs_dir: Path, job_name: str) -> list[Path]:
    root = job_root(jobs_dir, job_name)
    folders = [root / METRICS_FOLDER, *sorted((root / "hosts").glob(f"*/{METRICS_FOLDER}"))]
    return [path for folder in folders if folder.is_dir() for path in sorted(folder.iterdir()) if path.is_file()]


def _datum(line: dict[str, Any]) -> dict[str, Any]:
    datum = {k: line[k] for k in ("MetricName", "Dimensions", "Value", "StatisticValues", "Unit", "Values", "Counts") if k in line}
    stamp = line.get("Timestamp")
    if isinstance(stamp, str):
        datum["Timestamp"] = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    elif isinstance(stamp, (int, float)):
        datum["Timestamp"] = datetime.fromtimestamp(stamp, tz=UTC)
    if "MetricName" not in datum:
        raise ValueError("no MetricName")
    return datum


def publish_job_metrics(publisher: MetricPublisher, jobs_dir: Path, job_name: str, namespace: str) -> int:
    """Publishes every metric line the job left; returns how many went out."""
    data: list[dict[str, Any]] = []
    for path in metric_files(jobs_dir, job_name):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data.append(_datum(json.loads(line)))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipping CloudWatch metric line %d of %s: %s", number, path, exc)
    sent = 0
    for start in range(0, len(data), BATCH):
        try:
            publisher.publish(namespace, data[start : start + BATCH])
            sent += len(data[start : start + BATCH])
        except Exception as exc:  # a bad line costs its batch, never the execution
            log.warning("could not publish %d metrics of %s: %s", len(data[start : start + BATCH]), job_name, exc)
    return sent
