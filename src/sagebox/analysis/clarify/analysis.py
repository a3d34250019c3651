"""One Clarify analysis over a data set and a model: the content of analysis.json.

`run_analysis(config, dataset, model)` is the library entry: pure apart from calling
``model`` (anything with ``answers(rows) -> (labels, scores)``, such as
`endpoint.ModelClient`), so the Model Monitor's bias and explainability drift can run the
same analysis over captured data with a predictor of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sagebox.analysis.clarify import tree_model
from sagebox.analysis.clarify.bias_report import BiasColumns, bias_section
from sagebox.analysis.clarify.config import AnalysisConfig
from sagebox.analysis.clarify.dataset import Dataset
from sagebox.analysis.clarify.errors import ClarifyError
from sagebox.analysis.clarify.groups import is_continuous
from sagebox.analysis.clarify.model_io import predicted_labels, score_matrix
from sagebox.analysis.clarify.pdp import partial_dependence
from sagebox.analysis.clarify.shap_values import ShapResult, explain, label_names

log = logging.getLogger("sagebox.clarify")


class Model(Protocol):
    def answers(self, rows: Any) -> tuple[list[Any] | None, list[Any] | None]: ...


@dataclass
class AnalysisResult:
    analysis: dict[str, Any]
    shap: ShapResult | None = None
    baseline: pd.DataFrame | None = None
    baseline_computed: bool = False
    predicted: pd.Series | None = None
    notes: list[str] = field(default_factory=list)


def bias_columns(config: AnalysisConfig, dataset: Dataset) -> BiasColumns:
    if dataset.label is None:
        raise ClarifyError("Headers must contain label: bias metrics need the 'label' column in the dataset.")
    facets = tuple(
        (dataset.column(f.name_or_index, "facet"), f.value_or_threshold) for f in config.facets
    )
    group = dataset.column(config.group_variable, "group_variable") if config.group_variable is not None else None
    return BiasColumns(
        label=dataset.label,
        label_values_or_threshold=tuple(config.label_values_or_threshold or ()),
        facets=facets,
        group_variable=group,
        features=dataset.feature_columns,
    )


class _Scores:
    """The model's scores and labels for the data set's records, asked for once."""

    def __init__(self, model: Model | None, dataset: Dataset) -> None:
        self._model = model
        self._dataset = dataset
        self._answers: tuple[list[Any] | None, list[Any] | None] | None = None
        self._known: dict[tuple[Any, ...], np.ndarray] | None = None

    def model(self) -> Model:
        if self._model is None:
            raise ClarifyError("The analysis needs predictions and no predictor was configured.")
        return self._model

    def answers(self) -> tuple[list[Any] | None, list[Any] | None]:
        if self._answers is None:
            self._answers = self.model().answers(self._dataset.features.to_numpy().tolist())
        return self._answers

    def predict(self, rows: np.ndarray) -> np.ndarray:
        labels, scores = self.model().answers(np.asarray(rows).tolist())
        source = scores if scores is not None else labels
        if source is None:
            raise ClarifyError("The model's answer holds neither scores nor labels to explain.")
        return score_matrix(source)

    def predict_known(self, rows: np.ndarray) -> np.ndarray:
        """`predict`, answering a single record of the data set from the scores already asked for
        (Kernel SHAP asks for each explained record's own output: one request less a record)."""
        if len(rows) == 1 and self._answers is not None:
            if self._known is None:
                labels, values = self._answers
                matrix = score_matrix(values if values is not None else labels or [])
                self._known = {tuple(r): matrix[i] for i, r in enumerate(self._dataset.features.to_numpy().tolist())}
            found = self._known.get(tuple(np.asarray(rows)[0].tolist()))
            if found is not None:
                return found[None, :]
        return self.predict(rows)


def _predicted(config: AnalysisConfig, dataset: Dataset, columns: BiasColumns, scores: _Scores) -> pd.Series:
    if dataset.predicted_label is not None:
        return dataset.frame[dataset.predicted_label]
    if config.predictor is None:
        raise ClarifyError("Post-training bias needs predicted_label in the dataset or a predictor.")
    labels, values = scores.answers()
    categorical = not is_continuous(dataset.frame[columns.label], columns.label_values_or_threshold)
    predicted = predicted_labels(labels, values, config.predictor, config.threshold, categorical)
    if len(predicted) != len(dataset.frame):
        raise ClarifyError(f"The model gave {len(predicted)} predictions for {len(dataset.frame)} records.")
    return pd.Series(predicted, name="predicted_label")


def _shap(config: AnalysisConfig, dataset: Dataset, scores: _Scores, baseline: pd.DataFrame, booster: Any | None) -> ShapResult:
    spec = config.shap
    if spec is None:
        raise ClarifyError("methods.shap is not configured.")
    if spec.features_to_explain:
        raise ClarifyError("methods.shap.features_to_explain is not supported by sagebox's Clarify: every feature is explained.")
    features = dataset.features
    headers = config.predictor.label_headers if config.predictor else None
    if booster is not None and tree_model.explains_raw_output(booster, spec.use_logit, len(baseline)):
        labels, values = scores.answers()
        endpoint_scores = score_matrix(values if values is not None else labels or [])
        numeric = all(pd.api.types.is_numeric_dtype(features[c]) for c in features.columns)
        if numeric and endpoint_scores.shape[1] == 1:
            head = features.to_numpy(dtype=float)[: tree_model.CHECK_ROWS]
            if tree_model.agrees(booster, head, endpoint_scores[: tree_model.CHECK_ROWS], spec.use_logit):
                expected, local = tree_model.tree_shap(booster, features, baseline)
                log.info("SHAP values by TreeSHAP (exact) from the model's XGBoost booster")
                return ShapResult([str(c) for c in features.columns], label_names(1, headers), expected, local, "tree")
        log.info("the XGBoost booster does not answer as the endpoint does: Kernel SHAP")
    scores.answers()
    return explain(
        scores.predict_known, features, baseline, headers=headers,
        num_samples=spec.num_samples, use_logit=spec.use_logit, seed=spec.seed,
    )


def _pdp_features(config: AnalysisConfig, dataset: Dataset, shap_result: ShapResult | None) -> list[str]:
    spec = config.pdp
    if spec is None:
        return []
    if spec.features:
        names = [dataset.column(f, "pdp feature") for f in spec.features]
        outside = [n for n in names if n not in dataset.feature_columns]
        if outside:
            raise ClarifyError(f"methods.pdp.features {outside} are not model features {list(dataset.feature_columns)}.")
        return names
    if shap_result is None:
        raise ClarifyError("methods.pdp.features is required when the shap method is not requested.")
    importance = shap_result.global_values(config.shap.agg_method if config.shap else "mean_abs")[:, 0]
    order = np.argsort(-np.abs(importance), kind="stable")
    return [shap_result.features[i] for i in order[: spec.top_k_features]]


def run_analysis(
    config: AnalysisConfig,
    dataset: Dataset,
    model: Model | None = None,
    *,
    baseline: pd.DataFrame | None = None,
    baseline_computed: bool = False,
    booster: Any | None = None,
) -> AnalysisResult:
    """Every method the configuration asks for; `baseline` is needed for shap, `booster` (an
    XGBoost booster of the same model) allows exact TreeSHAP."""
    scores = _Scores(model, dataset)
    result = AnalysisResult({"version": "1.0"}, baseline=baseline, baseline_computed=baseline_computed)
    if config.bias_requested:
        columns = bias_columns(config, dataset)
        if config.pre_training_methods:
            result.analysis["pre_training_bias_metrics"] = bias_section(dataset.frame, columns, config.pre_training_methods)
        if config.post_training_methods:
            result.predicted = _predicted(config, dataset, columns, scores)
            result.analysis["post_training_bias_metrics"] = bias_section(
                dataset.frame, columns, config.post_training_methods, predicted=result.predicted
            )
    explanations: dict[str, Any] = {}
    if config.shap is not None:
        if baseline is None:
            raise ClarifyError("SHAP needs a baseline.")
        result.shap = _shap(config, dataset, scores, baseline, booster)
        explanations["kernel_shap"] = result.shap.section(config.shap.agg_method)
    if config.pdp is not None:
        names = _pdp_features(config, dataset, result.shap)
        headers = config.predictor.label_headers if config.predictor else None
        entries = []
        for name in names:
            entry = partial_dependence(scores.predict, dataset.features, name, config.pdp.grid_resolution, [])
            entry["label_headers"] = label_names(len(entry["model_predictions"]), headers)
            entries.append(entry)
        explanations["pdp"] = entries
    if explanations:
        result.analysis["explanations"] = explanations
    return result
