"""analysis_config.json, as the SageMaker Python SDK writes it, parsed into typed settings.

The members and their meaning are SageMaker's (developer guide, "Analysis configuration
files"); `AnalysisConfig.from_dict` checks types and allowed values and names the member
in its ClarifyError. Time series, image and text analyses are not implemented: asking for
them is refused by name rather than ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagebox.analysis.clarify.errors import ClarifyError

Column = str | int
DATASET_TYPES = (
    "text/csv",
    "application/jsonlines",
    "application/json",
    "application/x-parquet",
)
PRE_TRAINING_METHODS = ("CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD")
POST_TRAINING_METHODS = ("AD", "CDDPL", "DAR", "DCA", "DCR", "DI", "DPPL", "DRR", "FT", "GE", "RD", "SD", "TE")
AGG_METHODS = ("mean_abs", "median", "mean_sq")
MODEL_CONTENT_TYPES = ("text/csv", "application/jsonlines", "application/json")
DEFAULT_PROBABILITY_THRESHOLD = 0.5
DEFAULT_REPORT_TITLE = "SageMaker Analysis Report"


@dataclass(frozen=True)
class FacetSpec:
    name_or_index: Column
    value_or_threshold: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class ShapSpec:
    baseline: Any = None
    """Inline rows (a list), an S3 URI (str) or None for a k-means baseline."""
    num_clusters: int | None = None
    num_samples: int | None = None
    agg_method: str = "mean_abs"
    use_logit: bool = False
    save_local_shap_values: bool = False
    seed: int | None = None
    features_to_explain: tuple[Column, ...] | None = None


@dataclass(frozen=True)
class PdpSpec:
    grid_resolution: int = 15
    features: tuple[Column, ...] | None = None
    top_k_features: int = 10


@dataclass(frozen=True)
class PredictorSpec:
    endpoint_name: str | None = None
    model_name: str | None = None
    endpoint_name_prefix: str | None = None
    instance_type: str | None = None
    initial_instance_count: int | None = None
    accelerator_type: str | None = None
    target_model: str | None = None
    content_type: str | None = None
    accept_type: str | None = None
    content_template: str | None = None
    record_template: str | None = None
    custom_attributes: str | None = None
    label: Column | None = None
    probability: Column | None = None
    label_headers: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class AnalysisConfig:
    dataset_type: str
    methods: dict[str, Any]
    headers: tuple[str, ...] | None = None
    label: Column | None = None
    predicted_label: Column | None = None
    features: str | None = None
    label_values_or_threshold: tuple[Any, ...] | None = None
    probability_threshold: float | None = None
    facets: tuple[FacetSpec, ...] = ()
    group_variable: Column | None = None
    excluded_columns: tuple[Column, ...] = ()
    joinsource: Column | None = None
    dataset_uri: str | None = None
    predictor: PredictorSpec | None = None
    pre_training_methods: tuple[str, ...] = ()
    post_training_methods: tuple[str, ...] = ()
    shap: ShapSpec | None = None
    pdp: PdpSpec | None = None
    report_name: str = "report"
    report_title: str = DEFAULT_REPORT_TITLE
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def bias_requested(self) -> bool:
        return bool(self.pre_training_methods or self.post_training_methods)

    @property
    def threshold(self) -> float:
        """The score above which a model's single score means the positive class."""
        if self.probability_threshold is None:
            return DEFAULT_PROBABILITY_THRESHOLD
        return self.probability_threshold

    @classmethod
    def load(cls, path: Path) -> AnalysisConfig:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ClarifyError(
                f"Unable to load analysis configuration: there is no {path.name} in the "
                "'analysis_config' processing input (/opt/ml/processing/input/config)."
            ) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ClarifyError(f"Unable to load analysis configuration as JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise ClarifyError("Unable to load analysis configuration as JSON: the file must hold an object.")
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> AnalysisConfig:
        return _parse(document)


def _fail(member: str, detail: str) -> ClarifyError:
    return ClarifyError(f"Analysis configuration schema validation error: '{member}' {detail}")


def _column(document: dict[str, Any], member: str) -> Column | None:
    value = document.get(member)
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise _fail(member, f"must be a column name (string) or a zero-based index (integer), got {value!r}.")


def _values(value: Any, member: str) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        value = [value]
    for item in value:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise _fail(member, f"must list numbers or strings, got {item!r}.")
    return tuple(value)


def _methods(section: Any, member: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if section is None:
        return ()
    if not isinstance(section, dict) or "methods" not in section:
        raise _fail(member, 'must be an object with "methods": "all" or a list of metric names.')
    names = section["methods"]
    if isinstance(names, str):
        names = list(allowed) if names.lower() == "all" else [names]
    if not isinstance(names, list) or not names:
        raise _fail(f"{member}.methods", f'must be "all" or a non-empty list of {", ".join(allowed)}.')
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise _fail(f"{member}.methods", f"names unknown metrics {unknown}; allowed: {', '.join(allowed)}.")
    return tuple(sorted(set(names)))


def _integer(section: dict[str, Any], member: str, key: str, default: int | None, minimum: int = 1) -> int | None:
    value = section.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _fail(f"{member}.{key}", f"must be an integer of at least {minimum}, got {value!r}.")
    return value


def _shap(section: Any) -> ShapSpec | None:
    if section is None:
        return None
    if not isinstance(section, dict):
        raise _fail("methods.shap", "must be an object.")
    for unsupported in ("text_config", "image_config"):
        if unsupported in section:
            raise _fail(f"methods.shap.{unsupported}", "is not supported by sagebox's Clarify (tabular data only).")
    agg = str(section.get("agg_method", "mean_abs")).lower()
    if agg not in AGG_METHODS:
        raise _fail("methods.shap.agg_method", f"must be one of {', '.join(AGG_METHODS)}, got {agg!r}.")
    if section.get("baseline") is not None and section.get("num_clusters") is not None:
        raise _fail("methods.shap", "cannot have both baseline and num_clusters.")
    baseline = section.get("baseline")
    if baseline is not None and not isinstance(baseline, str | list):
        raise _fail("methods.shap.baseline", "must be a list of rows or the S3 URI of a baseline file.")
    if isinstance(baseline, list) and not baseline:
        raise _fail("methods.shap.baseline", "must hold at least one row.")
    explain = section.get("features_to_explain")
    return ShapSpec(
        baseline=baseline,
        num_clusters=_integer(section, "methods.shap", "num_clusters", None),
        num_samples=_integer(section, "methods.shap", "num_samples", None),
        agg_method=agg,
        use_logit=bool(section.get("use_logit", False)),
        save_local_shap_values=bool(section.get("save_local_shap_values", False)),
        seed=_integer(section, "methods.shap", "seed", None, minimum=0),
        features_to_explain=tuple(explain) if explain else None,
    )


def _pdp(section: Any, has_shap: bool) -> PdpSpec | None:
    if section is None:
        return None
    if not isinstance(section, dict):
        raise _fail("methods.pdp", "must be an object.")
    features = section.get("features")
    if not features and not has_shap:
        raise _fail("methods.pdp.features", "is required when the shap method is not requested.")
    return PdpSpec(
        grid_resolution=_integer(section, "methods.pdp", "grid_resolution", 15) or 15,
        features=tuple(features) if features else None,
        top_k_features=_integer(section, "methods.pdp", "top_k_features", 10) or 10,
    )


def _predictor(section: Any, dataset_type: str) -> PredictorSpec | None:
    if section is None:
        return None
    if not isinstance(section, dict):
        raise _fail("predictor", "must be an object.")
    if "time_series_predictor_config" in section:
        raise _fail("predictor.time_series_predictor_config", "is not supported by sagebox's Clarify.")
    endpoint, model = section.get("endpoint_name"), section.get("model_name")
    if not endpoint and not model:
        raise _fail("predictor", "needs endpoint_name (an existing endpoint) or model_name (a shadow endpoint).")
    if model and not endpoint and not (section.get("instance_type") and section.get("initial_instance_count")):
        raise _fail("predictor", "with model_name needs instance_type and initial_instance_count for the shadow endpoint.")
    content = str(section.get("content_type") or (dataset_type if dataset_type != "application/x-parquet" else "")).lower()
    if content not in MODEL_CONTENT_TYPES:
        raise _fail("predictor.content_type", f"must be one of {', '.join(MODEL_CONTENT_TYPES)}, got {content or None!r}.")
    accept = str(section.get("accept_type") or content).lower()
    if accept not in MODEL_CONTENT_TYPES:
        raise _fail("predictor.accept_type", f"must be one of {', '.join(MODEL_CONTENT_TYPES)}, got {accept!r}.")
    template = section.get("content_template")
    if content == "application/jsonlines" and (not isinstance(template, str) or "$features" not in template):
        raise _fail("predictor.content_template", 'must be a string with the placeholder $features for content_type application/jsonlines.')
    if content == "application/json" and (not isinstance(template, str) or "$record" not in template or not section.get("record_template")):
        raise _fail("predictor", "with content_type application/json needs content_template (with $records or $record) and record_template.")
    headers = section.get("label_headers")
    return PredictorSpec(
        endpoint_name=endpoint,
        model_name=model,
        endpoint_name_prefix=section.get("endpoint_name_prefix"),
        instance_type=section.get("instance_type"),
        initial_instance_count=section.get("initial_instance_count"),
        accelerator_type=section.get("accelerator_type"),
        target_model=section.get("target_model"),
        content_type=content,
        accept_type=accept,
        content_template=template,
        record_template=section.get("record_template"),
        custom_attributes=section.get("custom_attributes"),
        label=_column(section, "label") if "label" in section else None,
        probability=_column(section, "probability") if "probability" in section else None,
        label_headers=tuple(headers) if headers else None,
    )


def _facets(value: Any) -> tuple[FacetSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise _fail("facet", "must be a non-empty list of {name_or_index, value_or_threshold} objects.")
    facets = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or "name_or_index" not in item:
            raise _fail(f"facet[{index}]", "must be an object with name_or_index.")
        name = _column(item, "name_or_index")
        values = _values(item.get("value_or_threshold"), f"facet[{index}].value_or_threshold")
        facets.append(FacetSpec(name, values or None))  # type: ignore[arg-type]
    return tuple(facets)


def _parse(document: dict[str, Any]) -> AnalysisConfig:
    version = document.get("version", "1.0")
    if str(version) != "1.0":
        raise _fail("version", f"must be 1.0 (the only version there is), got {version!r}.")
    dataset_type = str(document.get("dataset_type", "")).lower()
    if dataset_type not in DATASET_TYPES:
        raise _fail("dataset_type", f"must be one of {', '.join(DATASET_TYPES)}, got {document.get('dataset_type')!r}.")
    if "time_series_data_config" in document or "segment_config" in document:
        raise _fail("time_series_data_config", "and segment_config are not supported by sagebox's Clarify.")
    for member in ("facet_dataset_uri", "predicted_label_dataset_uri"):
        if member in document:
            raise _fail(member, "is not supported by sagebox's Clarify: give the columns in the main dataset.")
    methods = document.get("methods")
    if not isinstance(methods, dict) or not methods:
        raise _fail("methods", "must be an object naming at least one analysis method.")
    for name in ("asymmetric_shapley_value",):
        if name in methods:
            raise _fail(f"methods.{name}", "is not supported by sagebox's Clarify.")
    pre = _methods(methods.get("pre_training_bias"), "methods.pre_training_bias", PRE_TRAINING_METHODS)
    post = _methods(methods.get("post_training_bias"), "methods.post_training_bias", POST_TRAINING_METHODS)
    shap = _shap(methods.get("shap"))
    pdp = _pdp(methods.get("pdp"), shap is not None)
    if not (pre or post or shap or pdp):
        raise _fail("methods", "must request pre_training_bias, post_training_bias, shap or pdp.")
    if dataset_type in ("application/jsonlines", "application/json") and not document.get("features"):
        raise _fail("features", f"(a JMESPath expression locating the features) is required for dataset_type {dataset_type}.")
    label_values = _values(document.get("label_values_or_threshold"), "label_values_or_threshold")
    facets = _facets(document.get("facet"))
    if pre or post:
        if not facets:
            raise _fail("facet", "is required for bias metrics: name at least one sensitive column.")
        if not label_values:
            raise _fail("label_values_or_threshold", "is required for bias metrics: the positive label value(s) or threshold.")
        if document.get("label") is None:
            raise _fail("label", "is required for bias metrics: the column of observed labels.")
    predictor = _predictor(document.get("predictor"), dataset_type)
    needs_model = bool(shap or pdp or (post and document.get("predicted_label") is None))
    if needs_model and predictor is None:
        raise _fail("predictor", "is required: shap, pdp and post-training bias without predicted_label call the model.")
    headers = document.get("headers")
    if headers is not None and (not isinstance(headers, list) or not all(isinstance(h, str) for h in headers)):
        raise _fail("headers", "must be a list of column names.")
    threshold = document.get("probability_threshold")
    if threshold is not None and (not isinstance(threshold, int | float) or isinstance(threshold, bool)):
        raise _fail("probability_threshold", f"must be a number, got {threshold!r}.")
    report = methods.get("report") if isinstance(methods.get("report"), dict) else {}
    excluded = document.get("excluded_columns") or []
    if not isinstance(excluded, list):
        raise _fail("excluded_columns", "must be a list of column names or indices.")
    return AnalysisConfig(
        dataset_type=dataset_type,
        methods=methods,
        headers=tuple(headers) if headers else None,
        label=_column(document, "label"),
        predicted_label=_column(document, "predicted_label"),
        features=document.get("features"),
        label_values_or_threshold=label_values,
        probability_threshold=float(threshold) if threshold is not None else None,
        facets=facets,
        group_variable=_column(document, "group_variable"),
        excluded_columns=tuple(excluded),
        joinsource=_column(document, "joinsource_name_or_index"),
        dataset_uri=document.get("dataset_uri"),
        predictor=predictor,
        pre_training_methods=pre,
        post_training_methods=post,
        shap=shap,
        pdp=pdp,
        report_name=str(report.get("name") or "report"),
        report_title=str(report.get("title") or DEFAULT_REPORT_TITLE),
        raw=document,
    )
