"""Model quality: baselining on a labelled data set, and monitoring executions that merge the
window's captured inferences with ground truth labels by ``inferenceId`` (the caller's id)
or ``eventId`` (the capture's own), then compare the metrics with the baseline's bounds.

Ground truth records are SageMaker's JSON Lines (``{"groundTruthData": {"data": "1",
"encoding": "CSV"}, "eventMetadata": {"eventId": "..."}, "eventVersion": "0"}``) under
``ground_truth_source``. Captured inferences without a label are left out and counted in
the job's message; when none has one, the execution fails saying so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sagebox.analysis.model_monitor import capture, datasets, outputs
from sagebox.analysis.model_monitor import quality_metrics as quality
from sagebox.analysis.model_monitor.data_quality import (
    metric_dimensions,
    metric_moment,
    read_json_file,
)
from sagebox.analysis.model_monitor.environment import AnalysisError, AnalyzerEnvironment

PROBLEM_TYPES = tuple(quality.METRICS_KEY)


def _column(table: pa.Table, attribute: str | None, what: str) -> list[Any] | None:
    if attribute is None:
        return None
    if attribute in table.column_names:
        return table.column(attribute).to_pylist()
    if attribute.isdigit() and int(attribute) < table.num_columns:
        return table.column(int(attribute)).to_pylist()
    raise AnalysisError(f"{what} '{attribute}' names no column of the data set; its columns are {table.column_names}.")


def label_text(value: Any) -> str:
    """A label as text, numbers written alike (1, 1.0 and "1" are all "1")."""
    if isinstance(value, bool):
        return "1" if value else "0"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value).strip()
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return repr(number)


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"The {what} '{value}' is not a number.") from exc


def evaluate(env: AnalyzerEnvironment, truths: list[Any], predictions: list[Any] | None, scores: list[Any] | None) -> dict[str, Any]:
    """The problem type's metrics of labels against predictions (or scores)."""
    problem = env.problem_type
    if problem not in PROBLEM_TYPES:
        raise AnalysisError(f"problem_type '{problem}' is not one of {', '.join(PROBLEM_TYPES)}.")
    if predictions is None and scores is None:
        raise AnalysisError("Model quality needs inference_attribute or probability_attribute to find the predictions.")
    if problem == "Regression":
        y_true = np.array([_number(v, "ground truth") for v in truths])
        y_pred = np.array([_number(v, "prediction") for v in (predictions if predictions is not None else scores or [])])
        return quality.metrics(problem, y_true, y_pred)
    truth_labels = [label_text(v) for v in truths]
    score_values = np.array([_number(v, "probability") for v in scores]) if scores is not None else None
    threshold = env.probability_threshold_attribute if env.probability_threshold_attribute is not None else 0.5
    if problem == "BinaryClassification":
        positive = label_text(env.positive_label) if env.positive_label else ("1" if "1" in truth_labels else max(truth_labels))
        y_true = np.array([1 if t == positive else 0 for t in truth_labels])
        if predictions is not None and (score_values is None or env.probability_threshold_attribute is None):
            y_pred = np.array([1 if label_text(p) == positive else 0 for p in predictions])
        else:
            y_pred = (score_values >= threshold).astype(int)  # type: ignore[operator]
        return quality.metrics(problem, y_true, y_pred, score_values)
    predicted = [label_text(p) for p in predictions] if predictions is not None else [label_text(s) for s in scores or []]
    return quality.metrics(problem, np.array(truth_labels, dtype=object), np.array(predicted, dtype=object))


def baseline(env: AnalyzerEnvironment) -> str:
    table = datasets.read_table(env)
    truths = _column(table, env.ground_truth_attribute, "ground_truth_attribute")
    if truths is None:
        raise AnalysisError("A model quality baseline needs ground_truth_attribute: the column of the true labels.")
    predictions = _column(table, env.inference_attribute, "inference_attribute")
    scores = _column(table, env.probability_attribute, "probability_attribute")
    found = evaluate(env, truths, predictions, scores)
    outputs.write_json(env.output_path, "statistics.json", _statistics(env, found, len(truths)))
    outputs.write_json(env.output_path, "constraints.json", {"version": 0.0, **quality.suggested_constraints(env.problem_type or "", found)})
    return outputs.completion_message(0)


def _statistics(env: AnalyzerEnvironment, found: dict[str, Any], count: int) -> dict[str, Any]:
    evaluated = metric_moment(env).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"version": 0.0, "dataset": {"item_count": count, "evaluation_time": evaluated},
            quality.METRICS_KEY[env.problem_type or ""]: found}


def _pick(row: list[Any] | dict[str, Any], attribute: str | None) -> Any:
    if isinstance(row, dict):
        if attribute is None:
            return next(iter(row.values()), None)
        key = attribute[2:] if attribute.startswith("$.") else attribute
        return row.get(key)
    index = int(attribute) if attribute is not None and attribute.isdigit() else 0
    if attribute is not None and not attribute.isdigit():
        raise AnalysisError(f"The attribute '{attribute}' must be a column index for CSV model outputs.")
    return row[index] if index < len(row) else None


def ground_truth(source: Path | None) -> dict[str, Any]:
    """Labels by event id, from the ground truth JSON Lines files."""
    if source is None:
        raise AnalysisError("Model quality monitoring needs ground truth labels: the job definition's GroundTruthS3Input.")
    labels: dict[str, Any] = {}
    for path in datasets.data_files(source) if source.exists() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                data = record["groundTruthData"]
                key = str(record["eventMetadata"]["eventId"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise AnalysisError(
                    f"Line {number} of the ground truth file {path.name} is not a ground truth record "
                    f'({{"groundTruthData": {{"data": ..., "encoding": "CSV"}}, "eventMetadata": {{"eventId": ...}}}}): {exc!r}'
                ) from exc
            rows = capture.payload_values(str(data.get("data", "")), data.get("encoding"), None)
            labels[key] = _pick(rows[0], None) if rows else None
    return labels


def monitor(env: AnalyzerEnvironment) -> str:
    constraints = read_json_file(env.baseline_constraints, "constraints")
    records = capture.read_records(env.dataset_source, env.start_time, env.end_time)
    if records.num_rows == 0:
        raise AnalysisError("The window holds no captured inferences to evaluate.")
    labels = ground_truth(env.ground_truth_source)
    events, inferences = records.column("event_id").to_pylist(), records.column("inference_id").to_pylist()
    outputs_data = records.column("output_data").to_pylist()
    encodings, types = records.column("output_encoding").to_pylist(), records.column("output_observedContentType").to_pylist()
    truths, predictions, scores = [], [], []
    for index in range(records.num_rows):
        key = inferences[index] or events[index]
        if key not in labels or outputs_data[index] is None:
            continue
        row = capture.payload_values(outputs_data[index], encodings[index], types[index])
        if not row:
            continue
        truths.append(labels[key])
        predictions.append(_pick(row[0], env.inference_attribute))
        scores.append(_pick(row[0], env.probability_attribute) if env.probability_attribute else None)
    total = records.num_rows
    if not truths:
        raise AnalysisError(
            f"None of the {total} captured inferences in the window has a ground truth label: no ground truth record's "
            f"eventMetadata.eventId matches their inferenceId (or their eventId when the request gave no inference id). "
            f"{len(labels)} ground truth records were read."
        )
    found = evaluate(env, truths, predictions if env.inference_attribute or not env.probability_attribute else None,
                     scores if env.probability_attribute else None)
    outputs.write_json(env.output_path, "statistics.json", _statistics(env, found, len(truths)))
    problems = quality.violations(env.problem_type or "", found, constraints or {})
    outputs.write_json(env.output_path, "constraint_violations.json", {"violations": problems})
    if env.publish_cloudwatch_metrics:
        moment, dimensions = metric_moment(env), metric_dimensions(env)
        outputs.write_metrics(env.cloudwatch_directory, [
            outputs.metric(name, moment, dimensions, value=float(metric["value"]))
            for name, metric in found.items() if isinstance(metric, dict) and "value" in metric
        ])
    message = outputs.completion_message(len(problems))
    if len(truths) < total:
        message += f" {total - len(truths)} of {total} captured inferences had no ground truth label and were left out."
    return message
