"""What the analyzer leaves behind: its reports, its message and its CloudWatch metric lines.

Reports go to ``output_path`` (statistics.json, constraints.json,
constraint_violations.json); the outcome goes to ``/opt/ml/output/message``, which becomes
the processing job's ExitMessage (``CompletedWithViolations: ...`` is how the execution is
known to have found violations); CloudWatch metrics go, one JSON object per line in the
``PutMetricData`` member shape without a namespace, to
``/opt/ml/output/metrics/cloudwatch``, for the service to publish.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity; Model Monitor writes such values as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_json(folder: Path, name: str, content: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = folder / f".{name}.part"
    partial.write_text(json.dumps(_clean(content), indent=4) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def write_message(path: Path, message: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message[:1024], encoding="utf-8")


def completion_message(violations: int) -> str:
    if violations:
        noun = "violation" if violations == 1 else "violations"
        return f"CompletedWithViolations: Job completed successfully with {violations} {noun}."
    return "Completed: Job completed successfully with no violations."


def metric(name: str, moment: datetime, dimensions: dict[str, str], value: float | None = None,
           statistics: dict[str, float] | None = None, unit: str = "None") -> dict[str, Any]:
    line: dict[str, Any] = {
        "MetricName": name, "Timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()], "Unit": unit,
    }
    if statistics is not None:
        line["StatisticValues"] = statistics
    else:
        line["Value"] = value
    return line


def write_metrics(folder: Path, lines: list[dict[str, Any]]) -> Path | None:
    clean = [line for line in lines if _finite_metric(line)]
    if not clean:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"cloudwatch_metrics-{uuid.uuid4().hex[:8]}.jsonl"
    target.write_text("".join(json.dumps(line) + "\n" for line in clean), encoding="utf-8")
    return target


def _finite_metric(line: dict[str, Any]) -> bool:
    values = list((line.get("StatisticValues") or {}).values()) or [line.get("Value")]
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
