"""Serving Autopilot's ``sagemaker-sklearn-automl`` container: the first and last of a candidate.

``AUTOML_TRANSFORM_MODE`` chooses the role (as in Autopilot's InferenceContainers):

- ``feature-transform`` (the default): raw CSV rows, without a header, in the training
  data's column order less the target, strings and empty cells as they come, through the
  fitted preprocessing; the answer is the CSV of features the model container reads.
- ``inverse-label-transform``: reads the model container's answer with the keys of
  ``SAGEMAKER_INFERENCE_INPUT`` (default ``predicted_label``) and answers the keys of
  ``SAGEMAKER_INFERENCE_OUTPUT`` (default ``predicted_label``) with class indices turned
  back into the target's labels; ``text/csv`` (default), ``application/json``
  (``{"predictions": [{...}]}``) or ``application/jsonlines``.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagebox.analysis.automl.fast_transform import FastTransform, format_rows, split_csv
from sagebox.analysis.automl.model_files import MODEL_FILE, FittedPreprocessing
from sagebox.analysis.automl.model_files import load as load_model
from sagebox.serving import inference_keys, media
from sagebox.serving.errors import BadRequest, ModelLoadError, NoContent

MODE_VARIABLE = "AUTOML_TRANSFORM_MODE"
FEATURE_TRANSFORM, INVERSE_LABEL_TRANSFORM = "feature-transform", "inverse-label-transform"
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"
ACCEPTS = (media.CSV, media.JSON, media.JSONLINES)


def load(model_dir: Path) -> FeatureTransform | InverseLabelTransform:
    if not (model_dir / MODEL_FILE).is_file():
        raise ModelLoadError(
            f"no Autopilot preprocessing model in the model folder: expected {MODEL_FILE}"
        )
    try:
        model = load_model(model_dir)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a load error
        raise ModelLoadError(f"{MODEL_FILE} cannot be loaded: {exc}") from None
    mode = os.environ.get(MODE_VARIABLE) or FEATURE_TRANSFORM
    if mode == FEATURE_TRANSFORM:
        return FeatureTransform(model)
    if mode == INVERSE_LABEL_TRANSFORM:
        try:
            keys_in = inference_keys.keys_from(
                inference_keys.INPUT_VARIABLE, [inference_keys.PREDICTED_LABEL]
            )
            keys_out = inference_keys.keys_from(
                inference_keys.OUTPUT_VARIABLE, [inference_keys.PREDICTED_LABEL]
            )
        except ValueError as exc:
            raise ModelLoadError(str(exc)) from None
        return InverseLabelTransform(model, keys_in, keys_out)
    raise ModelLoadError(
        f"{MODE_VARIABLE} '{mode}' is not one of {FEATURE_TRANSFORM}, {INVERSE_LABEL_TRANSFORM}"
    )


class FeatureTransform:
    def __init__(self, model: FittedPreprocessing, fast: bool = True) -> None:
        self.model = model
        # A few rows at a time go through the compiled fitted steps (same output, a fraction of
        # the cost); larger batches, and anything the compiled steps do not cover, through sklearn.
        self.fast = FastTransform.compile(model) if fast else None

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        media.content_type(content_type, (media.CSV,), media.CSV)
        if not body.strip():
            raise NoContent()
        if self.fast is not None:
            rows = split_csv(body, len(self.model.columns))
            features = None if rows is None else self.fast.transform(rows)
            if features is not None:
                return format_rows(features), CSV_RESPONSE_TYPE
        columns = self.model.columns
        try:
            frame = pd.read_csv(io.BytesIO(body), header=None, dtype=str, skipinitialspace=True)
        except (ValueError, pd.errors.ParserError) as exc:
            raise BadRequest(f"The rows are not CSV: {exc}") from None
        if frame.shape[1] != len(columns):
            raise BadRequest(
                f"Each row must have {len(columns)} values, one per feature column "
                f"({', '.join(columns)}), without the target '{self.model.target}'; got {frame.shape[1]}."
            )
        frame.columns = columns
        try:
            features = self.model.transform(frame)
        except (ValueError, TypeError) as exc:
            raise BadRequest(f"The rows cannot be transformed: {exc}") from None
        buffer = io.StringIO()
        np.savetxt(buffer, features, delimiter=",", fmt="%.9g")
        return buffer.getvalue().encode(), CSV_RESPONSE_TYPE


class InverseLabelTransform:
    def __init__(
        self, model: FittedPreprocessing, keys_in: tuple[str, ...], keys_out: tuple[str, ...]
    ) -> None:
        self.model = model
        self.keys_in = keys_in
        self.keys_out = keys_out

    def _label(self, value: Any) -> str:
        try:
            return self.model.classes[int(float(value))]
        except (ValueError, IndexError):
            raise BadRequest(
                f"'{value}' is not a class index of this model (0..{len(self.model.classes) - 1})"
            ) from None

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        media.content_type(content_type, (media.CSV,), media.CSV)
        response = media.negotiate(accept, ACCEPTS, media.CSV)
        if not body.strip():
            raise NoContent()
        try:
            rows = inference_keys.read_csv(body, self.keys_in)
        except ValueError as exc:
            raise BadRequest(
                f"The model container's answer does not hold {', '.join(self.keys_in)}: {exc}"
            ) from None
        answers = []
        for row in rows:
            answer: dict[str, Any] = {}
            for key in self.keys_out:
                if key == inference_keys.LABELS:
                    answer[key] = list(self.model.classes)
                elif key not in row:
                    raise BadRequest(
                        f"'{key}' was asked for but the model container did not send it "
                        f"(SAGEMAKER_INFERENCE_INPUT is {', '.join(self.keys_in)})"
                    )
                elif key == inference_keys.PREDICTED_LABEL:
                    answer[key] = self._label(row[key])
                elif key == inference_keys.PROBABILITY:
                    answer[key] = float(row[key])
                else:
                    answer[key] = [float(v) for v in row[key]]
            answers.append(answer)
        if response == media.JSON:
            return json.dumps({"predictions": answers}).encode(), media.JSON
        if response == media.JSONLINES:
            return ("".join(json.dumps(a) + "\n" for a in answers)).encode(), media.JSONLINES
        return inference_keys.write_csv(answers, self.keys_out), CSV_RESPONSE_TYPE
