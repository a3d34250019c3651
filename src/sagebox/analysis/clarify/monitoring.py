"""Bias drift and feature attribution drift: the Clarify image as a monitoring execution runs it.

A ModelBias or ModelExplainability schedule's execution is a processing job on the Clarify
image whose Environment says ``analysis_type`` MODEL_BIAS or MODEL_EXPLAINABILITY (the
Model Monitor contract, read by `model_monitor.environment`). It reads:

- the monitor's analysis configuration (``analysis_config``, the file at the definition's
  ConfigUri): what the SDK's ``BiasAnalysisConfig`` / ``ExplainabilityAnalysisConfig``
  write, a subset of Clarify's (label, label_values_or_threshold, facet, group_variable,
  headers; or methods.shap and the predictor). The data set's type is the captured
  traffic's, so it is completed here: bias computes every pre- and post-training metric
  unless ``methods`` says otherwise;
- the window's captured traffic (``dataset_source``, capture JSON Lines): the features are
  the captured requests (CSV lines, or JSON located by ``features_attribute``), the
  predictions the captured answers (``inference_attribute``, ``probability_attribute`` and
  ``probability_threshold_attribute``, read as Clarify reads a model's answers);
- for bias, the ground truth (``ground_truth_source``), merged by ``inferenceId`` (the
  caller's id) or ``eventId``: observed labels are what post-training metrics compare the
  predictions with; inferences without a label are left out and counted in the message;
- the baseline constraints (``baseline_constraints``): the baselining job's analysis.json.

It runs the same analysis as a Clarify job (`analysis.run_analysis`; explanations call the
model as Clarify does, through ``predictor``: a shadow endpoint of ``model_name`` or an
existing ``endpoint_name``), writes analysis.json and constraint_violations.json (`drift`)
to ``output_path``, CloudWatch metric lines when ``publish_cloudwatch_metrics`` is on, and
answers the job's message (``CompletedWithViolations: ...`` when violations were found).
"""

from __future__ import annotations

import base64
import csv
import json
import logging
import math
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import jmespath
import pandas as pd

from sagebox.analysis.clarify import drift, tree_model
from sagebox.analysis.clarify.analysis import run_analysis
from sagebox.analysis.clarify.aws_clients import clients, downloader
from sagebox.analysis.clarify.baseline import resolve_baseline
from sagebox.analysis.clarify.config import AnalysisConfig, PredictorSpec
from sagebox.analysis.clarify.dataset import build_dataset
from sagebox.analysis.clarify.endpoint import ModelClient, model_endpoint
from sagebox.analysis.clarify.errors import ClarifyError
from sagebox.analysis.clarify.groups import is_continuous
from sagebox.analysis.clarify.model_io import parse_answer, predicted_labels, records_of
from sagebox.analysis.model_monitor import capture, outputs
from sagebox.analysis.model_monitor.data_quality import metric_dimensions, metric_moment
from sagebox.analysis.model_monitor.environment import (
    AnalysisError,
    AnalyzerEnvironment,
    job_environment,
    local_path,
    read_environment,
)
from sagebox.analysis.model_monitor.model_quality import ground_truth

log = logging.getLogger("sagebox.clarify")

MODEL_BIAS = "MODEL_BIAS"
MODEL_EXPLAINABILITY = "MODEL_EXPLAINABILITY"
DEFAULT_CONFIG = "/opt/ml/processing/input/config/analysis_config.json"
PREDICTED = "predicted_label"
BIAS_METHODS = {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": "all"}}
INFINITY_METRIC = (
    2.348543e108  # how CloudWatch receives an infinite bias metric, as SageMaker publishes it
)


def requested() -> bool:
    """Whether this job is a bias or explainability monitoring execution."""
    return (job_environment().get("analysis_type") or "").upper() in (
        MODEL_BIAS,
        MODEL_EXPLAINABILITY,
    )


# -- the captured traffic -------------------------------------------------------------------


def _cell(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    return (
        int(value)
        if math.isfinite(value)
        and value == int(value)
        and "." not in text
        and "e" not in text.lower()
        else value
    )


def _decoded(data: str | None, encoding: str | None) -> str:
    if data is None:
        return ""
    return base64.b64decode(data).decode("utf-8", "replace") if encoding == "BASE64" else data


def _json_documents(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def request_rows(
    data: str | None, encoding: str | None, content_type: str | None, features: str | None
) -> list[list[Any]]:
    """The feature rows of one captured request: CSV lines, or JSON located by `features`."""
    text = _decoded(data, encoding)
    if "json" not in (content_type or "").lower():
        return [
            [_cell(c) for c in row]
            for row in csv.reader(line for line in text.splitlines() if line.strip())
        ]
    rows: list[list[Any]] = []
    try:
        documents = _json_documents(text)
    except json.JSONDecodeError as exc:
        raise ClarifyError(
            f"A captured request is not the JSON its content type {content_type} says: {exc}"
        ) from exc
    for document in documents:
        found = jmespath.search(features, document) if features else document
        if isinstance(found, list) and found and all(isinstance(r, list) for r in found):
            rows.extend(found)
        elif isinstance(found, list):
            rows.append(found)
        else:
            raise ClarifyError(
                f"features_attribute {features!r} locates no list of feature values in the captured request "
                f"{text[:200]!r}; set the EndpointInput's FeaturesAttribute to the JMESPath of the features."
            )
    return rows


def _accept(content_type: str | None) -> str:
    kind = (content_type or "text/csv").lower()
    if "jsonlines" in kind:
        return "application/jsonlines"
    return "application/json" if "json" in kind else "text/csv"


def _attribute(value: str | None, accept: str) -> Any:
    if value is None or value == "":
        return None
    return int(value) if accept == "text/csv" and value.lstrip("-").isdigit() else value


def answer_values(
    data: str | None,
    encoding: str | None,
    content_type: str | None,
    count: int,
    env: AnalyzerEnvironment,
) -> tuple[list[Any] | None, list[Any] | None]:
    """(labels, scores) of one captured answer to `count` records, read as Clarify reads a model's."""
    accept = _accept(content_type)
    spec = PredictorSpec(
        accept_type=accept,
        label=_attribute(env.inference_attribute, accept),
        probability=_attribute(env.probability_attribute, accept),
    )
    return records_of(parse_answer(_decoded(data, encoding).encode(), accept, count), spec, count)


def feature_names(headers: Any, label: Any, width: int) -> list[str]:
    """The names of the captured features: the configuration's headers without the label's."""
    names = [str(h) for h in headers] if isinstance(headers, list) else None
    if names is not None and len(names) == width + 1:
        drop = (
            label
            if isinstance(label, str) and label in names
            else (names[label] if isinstance(label, int) else None)
        )
        if drop is None:
            raise ClarifyError(
                f"The analysis configuration's headers {names} name {len(names)} columns for {width} captured features "
                f"and none of them is the label {label!r}."
            )
        names.remove(drop)
    if names is None:
        return [f"column_{i}" for i in range(width)]
    if len(names) != width:
        raise ClarifyError(
            f"Headers in the analysis configuration do not match the captured data: {len(names)} headers {names} for "
            f"{width} features in each captured request."
        )
    return names


class Traffic:
    """The window's captured requests and answers, one row a record of data."""

    def __init__(self, env: AnalyzerEnvironment, features_attribute: str | None) -> None:
        if not env.is_capture:
            raise ClarifyError(
                "Bias and explainability drift monitoring in sagebox reads an endpoint's captured traffic "
                "(EndpointInput); BatchTransformInput is not supported for them."
            )
        records = capture.read_records(env.dataset_source, env.start_time, env.end_time)
        if records.num_rows == 0:
            raise ClarifyError("The window holds no captured inferences to analyse.")
        column = {name: records.column(name).to_pylist() for name in records.column_names}
        self.rows: list[list[Any]] = []
        self.keys: list[str] = []
        self.labels: list[Any] = []
        self.scores: list[Any] = []
        has_labels = has_scores = True
        for i in range(records.num_rows):
            rows = request_rows(
                column["input_data"][i],
                column["input_encoding"][i],
                column["input_observedContentType"][i],
                features_attribute,
            )
            if not rows:
                continue
            labels, scores = answer_values(
                column["output_data"][i],
                column["output_encoding"][i],
                column["output_observedContentType"][i],
                len(rows),
                env,
            )
            has_labels, has_scores = (
                has_labels and labels is not None,
                has_scores and scores is not None,
            )
            self.rows.extend(rows)
            self.keys.extend([str(column["inference_id"][i] or column["event_id"][i])] * len(rows))
            self.labels.extend(labels or [None] * len(rows))
            self.scores.extend(scores or [None] * len(rows))
        widths = {len(r) for r in self.rows}
        if len(widths) != 1:
            raise ClarifyError(
                f"The captured requests hold different numbers of features: {sorted(widths)}."
            )
        self.width = widths.pop()
        self.records = records.num_rows
        if not has_labels:
            self.labels = []
        if not has_scores:
            self.scores = []

    def frame(self, names: list[str]) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=names)


# -- the two analyses ----------------------------------------------------------------------


def _label_value(text: Any) -> Any:
    return _cell(str(text)) if text is not None else None


def analyse_bias(
    env: AnalyzerEnvironment, given: dict[str, Any], traffic: Traffic
) -> tuple[dict[str, Any], str]:
    label = given.get("label")
    names = feature_names(given.get("headers"), label, traffic.width)
    label_name = (
        label
        if isinstance(label, str) and label not in names
        else (
            [str(h) for h in given["headers"]][label]
            if isinstance(label, int) and isinstance(given.get("headers"), list)
            else "label"
        )
    )
    methods = {
        k: v for k, v in (given.get("methods") or {}).items() if k in BIAS_METHODS
    } or BIAS_METHODS
    document = {
        **{
            k: v
            for k, v in given.items()
            if k not in ("headers", "predictor", "methods", "dataset_uri")
        },
        "dataset_type": "text/csv",
        "label": label_name,
        "predicted_label": PREDICTED,
        "methods": methods,
    }
    config = AnalysisConfig.from_dict(document)
    try:
        truths = ground_truth(env.ground_truth_source)
    except AnalysisError as exc:
        raise ClarifyError(str(exc)) from exc
    keep = [i for i, key in enumerate(traffic.keys) if key in truths]
    if not keep:
        raise ClarifyError(
            f"None of the {traffic.records} captured inferences in the window has a ground truth label: no ground truth "
            "record's eventMetadata.eventId matches their inferenceId (or their eventId when the request gave no inference "
            f"id). {len(truths)} ground truth records were read."
        )
    frame = traffic.frame(names).iloc[keep].reset_index(drop=True)
    frame[label_name] = [_label_value(truths[traffic.keys[i]]) for i in keep]
    if any(v is None for v in frame[label_name]):
        raise ClarifyError(
            "A ground truth record has no label value (groundTruthData.data is empty)."
        )
    labels = [traffic.labels[i] for i in keep] if traffic.labels else None
    scores = [traffic.scores[i] for i in keep] if traffic.scores else None
    threshold = (
        env.probability_threshold_attribute
        if env.probability_threshold_attribute is not None
        else config.threshold
    )
    categorical = not is_continuous(frame[label_name], config.label_values_or_threshold)
    frame[PREDICTED] = predicted_labels(labels, scores, PredictorSpec(), threshold, categorical)
    dataset = build_dataset(frame, config, label=label_name, predicted=PREDICTED)
    analysis = run_analysis(config, dataset).analysis
    note = ""
    if len(keep) < len(traffic.keys):
        note = f" {len(traffic.keys) - len(keep)} of {len(traffic.keys)} captured records had no ground truth label and were left out."
    return analysis, note


def _scores_located(predictor: Any, env: AnalyzerEnvironment) -> Any:
    """The predictor, told where the model's scores are when the configuration does not say: the
    SDK keeps suggest_baseline's model_scores in the EndpointInput's attributes instead."""
    if not isinstance(predictor, dict) or "probability" in predictor or "label" in predictor:
        return predictor
    where = env.probability_attribute or env.inference_attribute
    if where is None:
        return predictor
    accept = str(
        predictor.get("accept_type") or predictor.get("content_type") or "text/csv"
    ).lower()
    return {**predictor, "probability": _attribute(where, accept)}


def analyse_explainability(
    env: AnalyzerEnvironment, given: dict[str, Any], traffic: Traffic
) -> dict[str, Any]:
    names = feature_names(given.get("headers"), given.get("label"), traffic.width)
    methods = {
        k: v for k, v in (given.get("methods") or {}).items() if k in ("shap", "pdp", "report")
    }
    if "shap" not in methods:
        raise ClarifyError(
            "Analysis configuration schema validation error: 'methods.shap' is required to monitor feature attribution drift."
        )
    document = {
        **{
            k: v
            for k, v in given.items()
            if k not in ("headers", "label", "methods", "dataset_uri", "facet")
        },
        "dataset_type": "text/csv",
        "methods": methods,
    }
    if "predictor" in document:
        document["predictor"] = _scores_located(document["predictor"], env)
    config = AnalysisConfig.from_dict(document)
    dataset = build_dataset(traffic.frame(names), config)
    if config.predictor is None:
        raise ClarifyError(
            "Analysis configuration schema validation error: 'predictor' is required to explain the model."
        )
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        sagemaker, runtime, s3 = clients()
        endpoint = stack.enter_context(model_endpoint(config.predictor, sagemaker))
        model = ModelClient(runtime, endpoint, config.predictor, list(dataset.feature_columns))
        booster = None
        if tree_model.enabled():
            try:
                booster = tree_model.load_booster(
                    sagemaker, s3, config.predictor.model_name, config.predictor.endpoint_name
                )
            except Exception as exc:  # noqa: BLE001 - any doubt means Kernel SHAP
                log.info("no XGBoost booster for TreeSHAP (%s): Kernel SHAP", exc)
        baseline, computed = resolve_baseline(
            config, dataset.features, downloader(s3, Path(scratch))
        )
        result = run_analysis(
            config, dataset, model, baseline=baseline, baseline_computed=computed, booster=booster
        )
        log.info("the model was invoked %d times", model.invocations)
    return result.analysis


# -- outputs ---------------------------------------------------------------------------------


def _metric_value(value: Any) -> float | None:
    number = drift._number(value)  # noqa: SLF001 - one reading of analysis.json's values
    if number is None:
        return None
    return math.copysign(INFINITY_METRIC, number) if math.isinf(number) else number


def metric_lines(env: AnalyzerEnvironment, analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The CloudWatch metrics SageMaker publishes for an analysis (bias_metric_<name>, feature_<name>)."""
    moment, base = metric_moment(env), metric_dimensions(env)
    lines = []
    for section, stage in (
        ("pre_training_bias_metrics", "Pre-training"),
        ("post_training_bias_metrics", "Post-training"),
    ):
        content = analysis.get(section) or {}
        for facet, entries in (content.get("facets") or {}).items():
            for entry in entries:
                dimensions = {
                    **base,
                    "BiasStage": stage,
                    "Label": str(content.get("label")),
                    "LabelValue": str(content.get("label_value_or_threshold")),
                    "Facet": str(facet),
                    "FacetValue": str(entry.get("value_or_threshold")),
                }
                for metric in entry.get("metrics") or []:
                    value = _metric_value(metric.get("value"))
                    if value is not None:
                        lines.append(
                            outputs.metric(
                                f"bias_metric_{metric['name']}", moment, dimensions, value=value
                            )
                        )
    for label, content in ((analysis.get("explanations") or {}).get("kernel_shap") or {}).items():
        dimensions = {**base, "ExplainabilityMethod": "KernelShap", "Label": str(label)}
        for feature, value in (content.get("global_shap_values") or {}).items():
            lines.append(
                outputs.metric(
                    f"feature_{feature}",
                    moment,
                    {**dimensions, "ValueType": "GlobalShapValues"},
                    value=float(value),
                )
            )
        if content.get("expected_value") is not None:
            lines.append(
                outputs.metric(
                    "ExpectedValue",
                    moment,
                    {**dimensions, "ValueType": "ExpectedValue"},
                    value=float(content["expected_value"]),
                )
            )
    return lines


def _read_object(path: Path, what: str) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ClarifyError(f"The {what} {path.name} is missing from the job's inputs.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClarifyError(f"The {what} {path.name} is not JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ClarifyError(f"The {what} {path.name} must hold a JSON object.")
    return loaded


def run() -> str:
    """The monitoring execution; answers the job's message. ClarifyError for what it cannot use."""
    try:
        env = read_environment()
        raw = job_environment()
        given = _read_object(
            local_path(raw.get("analysis_config") or DEFAULT_CONFIG),
            "analysis configuration (ConfigUri)",
        )
        baseline = (
            _read_object(env.baseline_constraints, "baseline constraints file")
            if env.baseline_constraints
            else None
        )
        traffic = Traffic(env, raw.get("features_attribute") or None)
        log.info(
            "%s over %d captured records (%d rows)",
            env.analysis_type,
            traffic.records,
            len(traffic.rows),
        )
        note = ""
        if env.analysis_type == MODEL_BIAS:
            analysis, note = analyse_bias(env, given, traffic)
            violations = drift.bias_drift(analysis, baseline) if baseline is not None else []
        else:
            analysis = analyse_explainability(env, given, traffic)
            violations = drift.attribution_drift(analysis, baseline) if baseline is not None else []
    except AnalysisError as exc:
        raise ClarifyError(str(exc)) from exc
    env.output_path.mkdir(parents=True, exist_ok=True)
    (env.output_path / "analysis.json").write_text(json.dumps(analysis, indent=2), encoding="utf-8")
    outputs.write_json(
        env.output_path, "constraint_violations.json", {"version": "1.0", "violations": violations}
    )
    if env.publish_cloudwatch_metrics:
        outputs.write_metrics(env.cloudwatch_directory, metric_lines(env, analysis))
    message = outputs.completion_message(len(violations))
    if baseline is None:
        message += " No baseline constraints were given: nothing was compared."
    return message + note
