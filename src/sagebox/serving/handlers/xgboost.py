"""Serving SageMaker's built-in XGBoost algorithm, as its container does in inference.

Model: ``xgboost-model`` in the model folder (what training saves: UBJSON, no
extension), else a single ``*.json`` / ``*.ubj`` / ``*.bin`` file. Pickled boosters
(what the SageMaker container also accepts) are refused: unpickling runs arbitrary code.

Requests: ``text/csv`` (the default when no Content-Type is given), ``text/libsvm``
(``text/x-libsvm``), ``application/json``, ``application/jsonlines``,
``application/x-recordio-protobuf`` and ``application/x-parquet``. Predictions equal
``booster.predict(DMatrix(rows))`` bit for bit.

Responses (``Accept``; none or ``*/*`` means ``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``,
else ``text/csv``), shaped like the container's answers (``serve.py``/``serve_utils.py``
of sagemaker-xgboost-container):

- ``text/csv``: ``",".join(map(str, predictions.tolist()))``: one output per row gives
  ``0.1,0.2``; several (``multi:softprob``) give each row as a bracketed list,
  ``[0.1, 0.9],[0.8, 0.2]``. With ``SAGEMAKER_BATCH`` set (batch transform) rows are
  newline-separated and end with a newline instead.
- ``application/json``: ``{"predictions": [{"score": 0.1}, ...]}``, a list of scores per
  row for multi-output models; ``application/jsonlines``: one ``{"score": ...}`` per
  line; ``application/x-recordio-protobuf``: one record per row, ``label["score"]``.

With ``SAGEMAKER_INFERENCE_OUTPUT`` set (Autopilot's candidates), a ``text/csv`` answer is one
row per record holding the keys it names (``predicted_label``, ``probability``,
``probabilities``, ``labels``: ``serving/inference_keys.py``), as the container's selectable
inference content does.

Floats are written with Python's shortest round-tripping repr of the float32 value
widened to float64 (``0.43861907720565796``), as the container does.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sagebox.algorithms.xgboost.imports import import_xgboost_without_sklearn
from sagebox.formats.arrow import float64_array
from sagebox.serving import codecs, inference_keys, media
from sagebox.serving.errors import BadRequest, ModelLoadError, NoContent

# xgboost without its scikit-learn wrappers (1.2 s less at every model server start).
xgb = import_xgboost_without_sklearn()

MODEL_FILE = "xgboost-model"
MODEL_SUFFIXES = (".json", ".ubj", ".bin")
CONTENT_TYPES = (
    media.CSV,
    media.LIBSVM,
    media.X_LIBSVM,
    media.JSON,
    media.JSONLINES,
    media.RECORDIO,
    codecs.PARQUET,
)
ACCEPTS = (media.CSV, media.JSON, media.JSONLINES, media.RECORDIO)
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"
_PICKLE_PROTOCOL_MARK = 0x80
_XGBOOST_LOG_PREFIX = re.compile(r"^\[[0-9:]+\] \S+:[0-9]+: ")
_INPLACE_BOOSTERS = ("gbtree",)
"""Boosters whose ``inplace_predict`` equals ``predict`` (dart weighs trees differently)."""
_VECTORISED_CSV_ROWS = 1000
"""Batch answers this long are written by pyarrow."""
SINGLE_THREAD_ROWS = 64
"""Requests of at most this many rows are predicted on one thread (see XGBoostHandler)."""
_SINGLE_THREAD_COPY_BYTES = 64 * 1024 * 1024
"""Models up to this size (serialized) keep a second, single-threaded copy for those requests."""


def xgboost_message(error: Exception) -> str:
    """The first line of an xgboost error, without its timestamp and source location."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return _XGBOOST_LOG_PREFIX.sub("", first)


def find_model_file(model_dir: Path) -> Path:
    """``xgboost-model``, else the only ``*.json``/``*.ubj``/``*.bin`` file; else ModelLoadError."""
    if not model_dir.is_dir():
        raise ModelLoadError(f"the model folder {model_dir} does not exist")
    preferred = model_dir / MODEL_FILE
    if preferred.is_file():
        return preferred
    candidates = sorted(
        path
        for path in model_dir.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix in MODEL_SUFFIXES
    )
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(path.name for path in candidates)
        raise ModelLoadError(
            f"the model folder holds several model files ({names}); expected one, or '{MODEL_FILE}'"
        )
    present = sorted(path.name for path in model_dir.iterdir() if not path.name.startswith("."))
    listing = ", ".join(present) if present else "nothing"
    raise ModelLoadError(
        f"no XGBoost model in the model folder: expected '{MODEL_FILE}' or one "
        f"{'/'.join('*' + suffix for suffix in MODEL_SUFFIXES)} file, found {listing}"
    )


def load_booster(path: Path) -> xgb.Booster:
    """Load a saved booster (UBJSON or JSON) from its bytes; refuses pickles."""
    data = path.read_bytes()
    if len(data) > 1 and data[0] == _PICKLE_PROTOCOL_MARK and data[1] <= 5:
        raise ModelLoadError(
            f"{path.name} is a pickled Python object; pickles are not loaded because "
            "unpickling runs arbitrary code. Save the model with booster.save_model() instead"
        )
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgb.core.XGBoostError as exc:
        raise ModelLoadError(
            f"{path.name} is not a model xgboost {xgb.__version__} can load: {xgboost_message(exc)}"
        ) from None
    return booster


def load(model_dir: Path) -> XGBoostHandler:
    """The handler for the model in ``model_dir``; raises ``ModelLoadError``."""
    try:
        keys = inference_keys.keys_from(inference_keys.OUTPUT_VARIABLE)
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    return XGBoostHandler(
        load_booster(find_model_file(model_dir)),
        batch=(os.environ.get("SAGEMAKER_BATCH") or "").lower() not in ("", "0", "false"),
        default_accept=os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or media.CSV,
        inference_output=keys,
    )


class XGBoostHandler:
    """Answers invocations with ``booster`` predictions."""

    def __init__(
        self,
        booster: xgb.Booster,
        *,
        batch: bool = False,
        default_accept: str = media.CSV,
        inference_output: tuple[str, ...] = (),
    ) -> None:
        default = media.parse_media_type(default_accept).name
        if default not in ACCEPTS:
            raise ModelLoadError(
                f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT '{default_accept}' is not supported; "
                f"supported accept types: {', '.join(ACCEPTS)}"
            )
        self.booster = booster
        self.num_features = booster.num_features()
        self.batch = batch
        self.default_accept = default
        config = json.loads(booster.save_config())
        self._inplace = config["learner"]["gradient_booster"]["name"] in _INPLACE_BOOSTERS
        # A few rows gain nothing from OpenMP's threads, and pay for them: after each
        # prediction the idle workers spin, waiting for more work, on the CPUs the edge and
        # the next container of a pipeline need (measured on 2 busy cores: 17 ms of CPU and
        # 50 ms of wall time per one-row request instead of 0.25 ms). The booster's thread
        # count is its own parameter, not one per call, hence a single-threaded copy.
        self._single: xgb.Booster | None = None
        if self._inplace and len(booster.save_raw("ubj")) <= _SINGLE_THREAD_COPY_BYTES:
            self._single = booster.copy()
            self._single.set_param({"nthread": 1})
        self.inference_output = inference_output
        objective = config["learner"]["objective"]["name"]
        self.classes: int | None = None  # for the selectable content: None for regression
        if objective.startswith("binary:"):
            self.classes = 2
        elif objective in ("multi:softprob", "multi:softmax"):
            self.classes = int(config["learner"]["learner_model_param"]["num_class"])
        self._softmax = objective == "multi:softmax"
        self._lock = threading.Lock()  # for boosters whose predict is not thread-safe

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        request = media.content_type(content_type, CONTENT_TYPES, media.CSV)
        response = media.negotiate(accept, ACCEPTS, self.default_accept)
        if not body:
            raise NoContent()
        features = codecs.decode(body, request, self.num_features)
        return self.encode(self.scores(features), response)

    def scores(self, features: codecs.Features) -> np.ndarray:
        """``booster.predict`` of the rows: shape (n,), or (n, outputs) for multi-output."""
        try:
            if self._inplace:  # thread-safe for tree models
                booster = self.booster
                if self._single is not None and features.shape[0] <= SINGLE_THREAD_ROWS:
                    booster = self._single
                return booster.inplace_predict(features)
            matrix = xgb.DMatrix(features, missing=np.nan)
            with self._lock:
                return self.booster.predict(matrix)
        except (xgb.core.XGBoostError, ValueError) as exc:
            raise BadRequest(f"XGBoost cannot predict these rows: {xgboost_message(exc)}") from None

    def encode(self, scores: np.ndarray, accept: str) -> tuple[bytes, str]:
        if accept == media.CSV and self.inference_output:
            if self._softmax and self.classes:  # class ids: one-hot, so that the keys read alike
                scores = np.eye(self.classes)[scores.astype(np.int64)]
            rows = inference_keys.select(scores, self.inference_output, self.classes)
            return inference_keys.write_csv(rows, self.inference_output), CSV_RESPONSE_TYPE
        if accept == media.CSV:
            return self.encode_csv(scores), CSV_RESPONSE_TYPE
        columns = {"score": scores}
        if accept == media.JSON:
            return codecs.encode_json(columns), media.JSON
        if accept == media.JSONLINES:
            return codecs.encode_jsonlines(columns), media.JSONLINES
        return codecs.encode_recordio(columns), media.RECORDIO

    def encode_csv(self, scores: np.ndarray) -> bytes:
        if self.batch and scores.ndim == 1 and scores.size >= _VECTORISED_CSV_ROWS:
            # Large batch answers: pyarrow writes the same shortest round-trip values
            # several times faster than repr() per row (an exponent may be spelled out).
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(
                pa.record_batch([float64_array(scores)], names=["score"]),
                buffer,
                pacsv.WriteOptions(include_header=False, quoting_style="none"),
            )
            return buffer.getvalue().to_pybytes()
        rows = scores.tolist()
        cells = map(repr, rows) if scores.ndim == 1 else map(str, rows)
        if self.batch:
            return ("\n".join(cells) + "\n").encode()
        return ",".join(cells).encode()
