"""Requests to the model and what its answers mean, as Clarify's ``predictor`` describes them.

Requests (``content_type``):

- ``text/csv``: one line of feature values per record;
- ``application/jsonlines``: one line per record, ``content_template`` with ``$features``
  replaced by the record's JSON list of values;
- ``application/json``: ``content_template`` with ``$records`` (a JSON list of records) or
  ``$record`` (one record a request); each record is ``record_template`` with
  ``$features`` (the list of values), ``$features_kvp`` (an object by feature name) or
  ``${name}`` placeholders (one feature's JSON value).

Answers (``accept_type``): CSV lines, JSON Lines or one JSON document. ``label`` and
``probability`` are column indices for CSV and JMESPath expressions for JSON; without
either the whole record's answer is taken. Scores (what SHAP and PDP explain) are the
``probability`` values, else the ``label`` values, else the whole answer; predicted labels
(what post-training bias compares) are the ``label`` values, else the label of the
highest score (``label_headers``) when there are several scores, else a single score
turned into a label: above ``probability_threshold`` (default 0.5) is positive.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import jmespath
import numpy as np

from sagebox.analysis.clarify.config import PredictorSpec
from sagebox.analysis.clarify.errors import ClarifyError

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value json and csv write exactly (floats at full precision)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return value  # keeps "2.0": the model reads the number either way
    return value


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([repr(v) if isinstance(v, float) else v for v in map(_plain, values)])
    return buffer.getvalue()


def _record(values: Sequence[Any], names: Sequence[str], template: str) -> str:
    plain = [_plain(v) for v in values]
    if template == "$features":
        return json.dumps(plain)
    if template == "$features_kvp":
        return json.dumps(dict(zip(names, plain, strict=True)))
    by_name = dict(zip(names, plain, strict=True))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in by_name:
            raise ClarifyError(f"predictor.record_template names '{name}', which is not a feature ({list(names)}).")
        return json.dumps(by_name[name])

    text = _PLACEHOLDER.sub(fill, template)
    return text.replace("$features_kvp", json.dumps(by_name)).replace("$features", json.dumps(plain))


def serialize(rows: Sequence[Sequence[Any]], names: Sequence[str], spec: PredictorSpec) -> list[bytes]:
    """The request bodies for `rows` (one body, or one per record for a ``$record`` template)."""
    content = spec.content_type or "text/csv"
    if content == "text/csv":
        return ["\n".join(_csv_line(r) for r in rows).encode()]
    template = spec.content_template or "$features"
    if content == "application/jsonlines":
        return ["\n".join(template.replace("$features", json.dumps([_plain(v) for v in r])) for r in rows).encode()]
    records = [_record(r, names, spec.record_template or "$features") for r in rows]
    if "$records" in template:
        return [template.replace("$records", "[" + ",".join(records) + "]").encode()]
    return [template.replace("$record", record).encode() for record in records]


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    return value


def parse_answer(body: bytes, accept: str, count: int) -> Any:
    """The answer to one request: per-record lists (CSV), per-record objects (JSON Lines) or the
    JSON document (JSON)."""
    text = body.decode("utf-8", errors="replace").strip()
    if accept == "application/json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ClarifyError(f"The model's answer is not valid JSON (accept_type application/json): {text[:200]!r}") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if accept == "application/jsonlines":
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError as exc:
            raise ClarifyError(f"The model's answer is not JSON Lines (accept_type application/jsonlines): {text[:200]!r}") from exc
    records = [[_number(cell) for cell in row] for row in csv.reader(lines)]
    if len(records) == 1 and count > 1 and len(records[0]) == count:  # one value a record on one line
        records = [[value] for value in records[0]]
    return records


def _pick(record: Any, key: Any, accept: str, member: str) -> Any:
    if accept == "text/csv":
        if not isinstance(key, int) or not -len(record) <= key < len(record):
            raise ClarifyError(f"predictor.{member} {key!r} is not a column of the model's CSV answer {record!r}.")
        return record[key]
    try:
        return jmespath.search(str(key), record)
    except jmespath.exceptions.JMESPathError as exc:
        raise ClarifyError(f"predictor.{member} {key!r} is not a valid JMESPath expression: {exc}") from exc


def _whole(record: Any, accept: str) -> Any:
    if accept == "text/csv" and isinstance(record, list) and len(record) == 1:
        return record[0]
    return record


def records_of(answer: Any, spec: PredictorSpec, count: int) -> tuple[list[Any] | None, list[Any] | None]:
    """(labels, scores) per record as the answer holds them; either may be None."""
    accept = spec.accept_type or "text/csv"
    if accept == "application/json":
        labels = _pick(answer, spec.label, accept, "label") if spec.label is not None else None
        scores = _pick(answer, spec.probability, accept, "probability") if spec.probability is not None else None
        if labels is None and scores is None:
            scores = answer
        if count == 1:  # the answer to one record ($record template) is that record's
            labels = [labels] if labels is not None and not (isinstance(labels, list) and len(labels) == 1) else labels
            scores = [scores] if scores is not None and not (isinstance(scores, list) and len(scores) == 1) else scores
        for name, values in (("label", labels), ("probability", scores)):
            if values is not None and (not isinstance(values, list) or len(values) != count):
                raise ClarifyError(f"The model's JSON answer gives no list of {count} values for predictor.{name}: {str(values)[:200]}")
        return labels, scores
    if not isinstance(answer, list) or len(answer) != count:
        got = len(answer) if isinstance(answer, list) else 0
        raise ClarifyError(f"The model answered {got} records for {count} sent ({accept}); each record needs one answer.")
    labels = [_pick(r, spec.label, accept, "label") for r in answer] if spec.label is not None else None
    scores = [_pick(r, spec.probability, accept, "probability") for r in answer] if spec.probability is not None else None
    if labels is None and scores is None:
        scores = [_whole(r, accept) for r in answer]
    return labels, scores


def score_matrix(scores: Sequence[Any]) -> np.ndarray:
    """Scores as an (n records, n outputs) float array."""
    rows = [s if isinstance(s, list) else [s] for s in scores]
    try:
        matrix = np.array(rows, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ClarifyError(f"Could not convert string to float: the model's scores are not numbers ({rows[:3]!r}).") from exc
    if matrix.ndim != 2:
        raise ClarifyError("The model's answers hold different numbers of scores per record.")
    return matrix


def predicted_labels(labels: list[Any] | None, scores: list[Any] | None, spec: PredictorSpec, threshold: float, categorical: bool) -> list[Any]:
    """The predicted label of each record (see the module docstring); `categorical` says whether
    the observed labels are categories (a single score then becomes a label by threshold)."""
    from_scores = labels is None
    if labels is not None and any(isinstance(v, list) for v in labels):
        if scores is None:
            raise ClarifyError("predictor.label gives several labels per record: give predictor.probability too.")
        best = score_matrix(scores).argmax(axis=1)
        return [labels[i][b] for i, b in enumerate(best)]
    if labels is not None:
        values = list(labels)
    else:
        if scores is None:
            raise ClarifyError("The model's answer holds neither labels nor scores.")
        matrix = score_matrix(scores)
        if matrix.shape[1] > 1:
            headers = spec.label_headers
            named = headers is not None and len(headers) == matrix.shape[1]
            return [headers[b] if named else int(b) for b in matrix.argmax(axis=1)]  # type: ignore[index]
        values = list(matrix[:, 0])
    if categorical and (_are_scores(values) or (from_scores and spec.probability is not None)):
        return [_thresholded(v, threshold, spec) for v in values]
    return values


def _are_scores(values: Sequence[Any]) -> bool:
    """Numbers that are not all whole (0/1 labels are labels already)."""
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    return any(not math.isfinite(n) or n != int(n) for n in numbers)


def _thresholded(value: Any, threshold: float, spec: PredictorSpec) -> Any:
    positive = float(value) > threshold
    headers = spec.label_headers
    if headers and len(headers) == 2:
        return headers[1] if positive else headers[0]
    if headers and len(headers) == 1:
        return headers[0] if positive else f"not {headers[0]}"
    return 1 if positive else 0
