"""What the handlers of SageMaker's own algorithms share: their request and response formats.

Requests (``Content-Type``; none means ``text/csv``): ``text/csv`` rows of features,
``application/json`` (``{"instances": [{"features": [...]}, ...]}`` and the other
shapes ``json_payloads`` reads, dense or sparse), ``application/jsonlines`` (one
instance per line) and ``application/x-recordio-protobuf``.

Responses (``Accept``; none or ``*/*`` means ``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``,
else ``application/json``) are built from named output columns, one entry per row:

- ``application/json``: ``{"predictions": [{"score": 0.9, "predicted_label": 1}, ...]}``
- ``application/jsonlines``: one ``{"score": 0.9, "predicted_label": 1}`` per line
- ``application/x-recordio-protobuf``: one record per row, outputs in its ``label`` map
- ``text/csv``: one line per row, the outputs' values in column order (vectors spread out)

A handler subclasses ``AmazonHandler`` and implements ``infer``.
"""

from __future__ import annotations

import io
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sagebox.algorithms.amazon.model_io import ModelFileError, load_model
from sagebox.serving import codecs, media
from sagebox.serving.errors import ModelLoadError, NoContent

CONTENT_TYPES = (media.CSV, media.JSON, media.JSONLINES, media.RECORDIO)
ACCEPTS = (media.JSON, media.JSONLINES, media.RECORDIO, media.CSV)
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"

Columns = Mapping[str, np.ndarray]


def load_arrays(model_dir: Path, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A model saved by ``amazon.model_io.save_model``; raises ``ModelLoadError``."""
    if not Path(model_dir).is_dir():
        raise ModelLoadError(f"the model folder {model_dir} does not exist")
    try:
        return load_model(Path(model_dir), name)
    except ModelFileError as exc:
        raise ModelLoadError(str(exc)) from None


def default_accept() -> str:
    """``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``, else ``application/json``."""
    configured = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or media.JSON
    name = media.parse_media_type(configured).name
    if name not in ACCEPTS:
        raise ModelLoadError(
            f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT '{configured}' is not supported; "
            f"supported accept types: {', '.join(ACCEPTS)}"
        )
    return name


def encode_csv(columns: Columns) -> bytes:
    """One line per row: each output's value (or a vector's values), comma-separated."""
    parts = []
    for values in columns.values():
        array = np.asarray(values)
        parts.append(array.reshape(len(array), -1))
    if not parts:
        return b""
    table = np.hstack([part.astype(object) for part in parts])
    buffer = io.StringIO()
    for row in table.tolist():
        buffer.write(",".join(_cell(value) for value in row))
        buffer.write("\n")
    return buffer.getvalue().encode()


def _cell(value: object) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class AmazonHandler(ABC):
    """Decodes requests, calls ``infer``, encodes the named outputs it returns."""

    content_types: tuple[str, ...] = CONTENT_TYPES
    accepts: tuple[str, ...] = ACCEPTS

    def __init__(self, num_features: int | None) -> None:
        self.num_features = num_features
        self.default_accept = default_accept()

    @abstractmethod
    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        """Named output columns for the rows (float64, or CSR for sparse requests).

        ``options`` are the Accept header's parameters (e.g. ``verbose=true``).
        Raise ``sagebox.serving.errors.BadRequest`` for rows the model cannot take.
        """

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        request = media.content_type(content_type, self.content_types, media.CSV)
        response = media.negotiate(accept, self.accepts, self.default_accept)
        if not body:
            raise NoContent()
        options = dict(media.parse_media_type(accept).parameters) if accept.strip() else {}
        columns = self.infer(codecs.decode(body, request, self.num_features), options)
        return self.encode(columns, response)

    def encode(self, columns: Columns, accept: str) -> tuple[bytes, str]:
        if accept == media.JSON:
            return codecs.encode_json(columns), media.JSON
        if accept == media.JSONLINES:
            return codecs.encode_jsonlines(columns), media.JSONLINES
        if accept == media.CSV:
            return encode_csv(columns), CSV_RESPONSE_TYPE
        return codecs.encode_recordio(columns), media.RECORDIO
