"""Serving an ENSEMBLING candidate's model: the middle container of its inference pipeline.

Model: ``ensemble.joblib`` in the model folder, as an ENSEMBLING training job saves it (a
bagged base model, a layer-2 stacker with its layer-1 models, or the weighted ensemble of
several; `analysis/automl/ensembles.py`): the whole stack in one artifact.
joblib pickles: sagebox loads only what its own ensembling jobs wrote.

Requests: ``text/csv`` rows of preprocessed features (what the feature-transform container
answers). Answers: ``text/csv``, one row per record with the keys ``SAGEMAKER_INFERENCE_OUTPUT``
names (``predicted_label`` by default: the class index for classification, decided by the
model's tuned decision threshold for binary F1 and BalancedAccuracy jobs, the value for
regression; ``probability``, ``probabilities``, ``labels``), as the XGBoost container does
for HPO candidates, so the same inverse-label-transform container reads either.
"""

from __future__ import annotations

import io
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from sagebox.analysis.automl.ensembles import WeightedEnsemble
from sagebox.analysis.automl.problems import REGRESSION
from sagebox.serving import inference_keys, media
from sagebox.serving.errors import BadRequest, ModelLoadError, NoContent

MODEL_FILE = "ensemble.joblib"
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"


def load(model_dir: Path) -> EnsembleHandler:
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise ModelLoadError(f"no Autopilot ensemble in the model folder: expected {MODEL_FILE}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a load error
        raise ModelLoadError(f"{MODEL_FILE} cannot be loaded: {exc}") from None
    if not isinstance(model, WeightedEnsemble):
        raise ModelLoadError(f"{MODEL_FILE} does not hold an Autopilot ensemble")
    try:
        keys = inference_keys.keys_from(
            inference_keys.OUTPUT_VARIABLE, [inference_keys.PREDICTED_LABEL]
        )
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    return EnsembleHandler(model, keys)


class EnsembleHandler:
    def __init__(self, model: WeightedEnsemble, keys: tuple[str, ...]) -> None:
        self.model = model
        self.keys = keys
        self.features = _feature_count(model)

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        media.content_type(content_type, (media.CSV,), media.CSV)
        if not body.strip():
            raise NoContent()
        try:
            rows = pd.read_csv(io.BytesIO(body), header=None, dtype=np.float64).to_numpy()
        except ValueError as exc:
            raise BadRequest(f"The rows are not numeric CSV: {exc}") from None
        if self.features is not None and rows.shape[1] != self.features:
            raise BadRequest(
                f"Each row must have {self.features} feature values; got {rows.shape[1]}."
            )
        try:
            scores = self.model.predict(rows)
        except ValueError as exc:
            raise BadRequest(f"The rows cannot be scored: {exc}") from None
        classes = None if self.model.problem_type == REGRESSION else self.model.classes
        # An ensemble pickled before decision thresholds existed has none (class default).
        answers = inference_keys.select(
            scores, self.keys, classes, getattr(self.model, "threshold", None)
        )
        return inference_keys.write_csv(answers, self.keys), CSV_RESPONSE_TYPE


def _feature_count(model: WeightedEnsemble) -> int | None:
    """How many features the fitted models expect (scikit-learn's n_features_in_), if known.
    The largest count any model gives: an unpickled CatBoost model answers 0."""
    counts = [int(getattr(fitted, "n_features_in_", 0) or 0) for fitted in model.fitted_models()]
    return max(counts, default=0) or None
