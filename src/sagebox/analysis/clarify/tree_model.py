"""Exact SHAP for XGBoost models: the TreeSHAP path.

When the model behind the predictor is a SageMaker XGBoost model (its image repository
is ``sagemaker-xgboost`` and its ModelDataUrl holds ``xgboost-model``), the job reads the
booster and computes the interventional SHAP values with ``shap``'s TreeExplainer against
the same baseline: exactly the values Kernel SHAP estimates, so every record's values add
up to its output within float rounding, whatever ``num_samples``.

It is used only where TreeSHAP of the booster's raw output is the quantity Kernel SHAP
estimates: regression objectives whose prediction is the raw score (any baseline), and
``binary:logistic`` with ``use_logit`` and a one-row baseline (Kernel SHAP's logit link is
applied to the baseline-averaged probability, logit(E_b p), which is E_b of the raw score
only for a single baseline row). Probabilities without ``use_logit`` go to Kernel SHAP
(TreeSHAP of a transformed output is not the interventional Shapley value). Before using the booster the job checks that it predicts what the endpoint
answers on the first records; any doubt (another image, another file, a mismatch) falls
back to Kernel SHAP. ``SAGEBOX_CLARIFY_TREE_SHAP=0`` in the job's Environment turns the
path off.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger("sagebox.clarify")
SWITCH = "SAGEBOX_CLARIFY_TREE_SHAP"
RAW_OBJECTIVES = ("reg:squarederror", "reg:linear", "reg:pseudohubererror", "reg:absoluteerror", "reg:squaredlogerror")
CHECK_ROWS = 50
TOLERANCE = 1e-4


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").lower() not in ("0", "false", "no", "off")


def _model_name(sagemaker: Any, model_name: str | None, endpoint_name: str | None) -> str | None:
    if model_name:
        return model_name
    if not endpoint_name:
        return None
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    return variants[0]["ModelName"] if len(variants) == 1 else None


def load_booster(sagemaker: Any, s3: Any, model_name: str | None, endpoint_name: str | None) -> Any | None:
    """The model's XGBoost booster, or None when the model is not a SageMaker XGBoost one."""
    import xgboost

    name = _model_name(sagemaker, model_name, endpoint_name)
    if name is None:
        return None
    container = sagemaker.describe_model(ModelName=name).get("PrimaryContainer") or {}
    image, data = container.get("Image", ""), container.get("ModelDataUrl", "")
    repository = image.partition("@")[0].rpartition("/")[2].partition(":")[0]
    if repository != "sagemaker-xgboost" or not data.startswith("s3://"):
        return None
    bucket, _, key = data[len("s3://") :].partition("/")
    archive = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile() and os.path.basename(m.name) == "xgboost-model"), None)
        if member is None:
            return None
        raw = tar.extractfile(member)
        if raw is None:
            return None
        return xgboost.Booster(model_file=bytearray(raw.read()))


def objective(booster: Any) -> str:
    return str(json.loads(booster.save_config())["learner"]["objective"]["name"])


def explains_raw_output(booster: Any, use_logit: bool, baseline_rows: int) -> bool:
    name = objective(booster)
    return name in RAW_OBJECTIVES or (use_logit and name == "binary:logistic" and baseline_rows == 1)


def agrees(booster: Any, features: np.ndarray, endpoint_scores: np.ndarray, use_logit: bool) -> bool:
    """Whether the booster's raw output is the endpoint's (logit of the) score on these rows."""
    import xgboost

    raw = booster.predict(xgboost.DMatrix(features), output_margin=True)
    scores = endpoint_scores[:, 0]
    if use_logit:
        clipped = np.clip(scores, 1e-12, 1 - 1e-12)
        scores = np.log(clipped / (1 - clipped))
    return bool(np.allclose(raw, scores, rtol=TOLERANCE, atol=TOLERANCE))


def tree_shap(booster: Any, frame: pd.DataFrame, baseline: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(expected value (1,), local values (n, M, 1)) of the booster's raw output."""
    import shap

    explainer = shap.TreeExplainer(
        booster, data=baseline[frame.columns].to_numpy(dtype=float), feature_perturbation="interventional", model_output="raw"
    )
    values = np.asarray(explainer.shap_values(frame.to_numpy(dtype=float)), dtype=float)
    return np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)), values[:, :, None]
