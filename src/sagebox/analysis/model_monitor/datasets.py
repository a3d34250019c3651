"""The data an analysis looks at, as one Arrow table: a baseline data set or captured traffic.

``dataset_format`` says how ``dataset_source`` is written: ``{"csv": {"header": true}}``
(headerless CSV columns are named ``_c0``, ``_c1``, ... as Spark names them),
``{"json": {"lines": true}}`` (nested objects flattened to dotted names), ``{"parquet": {}}``
or ``{"sagemakerCaptureJson": {...}}`` (an endpoint's captured traffic, `capture.py`). A
record preprocessor script, when given, sees every record (a CSV line of a baseline, an
`InferenceRecord` of captured traffic) and makes the rows itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from sagebox.analysis.model_monitor import capture
from sagebox.analysis.model_monitor.environment import (
    CAPTURE_FORMAT,
    AnalysisError,
    AnalyzerEnvironment,
)
from sagebox.analysis.model_monitor.scripts import (
    InferenceRecord,
    RecordPreprocessor,
    positional_names,
)


def data_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise AnalysisError(f"dataset_source {source.name} does not exist: the job's input holds no data.")
    return sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))


def _format(dataset_format: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    lowered = {str(k).lower(): v for k, v in dataset_format.items()}
    for name in ("csv", "json", "parquet", CAPTURE_FORMAT.lower()):
        if name in lowered:
            options = lowered[name] or {}
            return name, {str(k).lower(): v for k, v in options.items()} if isinstance(options, dict) else {}
    raise AnalysisError(f"dataset_format {json.dumps(dataset_format)} names no format the analyzer reads "
                        "(csv, json, parquet, sagemakerCaptureJson).")


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def read_table(
    env: AnalyzerEnvironment, preprocessor: RecordPreprocessor | None = None, numeric: list[bool] | None = None
) -> pa.Table:
    """The analysed data as a table (columns by name, or _c0, _c1, ... by position);
    `numeric`: which positions the baseline says are numbers (a hint for captured CSV)."""
    kind, options = _format(env.dataset_format)
    if kind == CAPTURE_FORMAT.lower():
        if preprocessor is not None:
            return _preprocessed(_capture_records(env.dataset_source, env.start_time, env.end_time), preprocessor)
        records = capture.read_records(env.dataset_source, env.start_time, env.end_time)
        return capture.features(records, env.capture_index_names, numeric)
    files = data_files(env.dataset_source)
    if not files:
        raise AnalysisError(f"dataset_source {env.dataset_source.name} holds no files.")
    if kind == "csv":
        header = _flag(options.get("header"), True)
        if preprocessor is not None:
            return _preprocessed((line for path in files for line in _lines(path, skip_header=header)), preprocessor)
        return _concat([_csv(path, header) for path in files])
    if kind == "json":
        return _concat([_json(path, _flag(options.get("lines"), True)) for path in files])
    try:
        return _concat([pq.read_table(path) for path in files])
    except pa.ArrowInvalid as exc:
        raise AnalysisError(f"dataset_source is not Parquet data: {exc}") from exc


def _csv(path: Path, header: bool) -> pa.Table:
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(autogenerate_column_names=not header),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        raise AnalysisError(f"The data set file {path.name} is not CSV as dataset_format says: {exc}") from exc
    if not header:
        table = table.rename_columns([f"_c{i}" for i in range(table.num_columns)])
    return table


def _json(path: Path, lines: bool) -> pa.Table:
    try:
        if lines:
            table = pajson.read_json(path)
        else:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            table = pa.Table.from_pylist(loaded if isinstance(loaded, list) else [loaded])
    except (pa.ArrowInvalid, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"The data set file {path.name} is not JSON as dataset_format says: {exc}") from exc
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    return table


def _concat(tables: list[pa.Table]) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        as_text = [t.cast(pa.schema([(f.name, pa.string()) for f in t.schema])) for t in tables]
        return pa.concat_tables(as_text, promote_options="permissive")


def _lines(path: Path, skip_header: bool) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if (number == 0 and skip_header) or not line.strip():
                continue
            yield line.rstrip("\r\n")


def _capture_records(source: Path, start: datetime | None, end: datetime | None) -> Iterator[InferenceRecord]:
    low = capture.time_key(start) if start else None
    high = capture.time_key(end) if end else None
    for path in capture.capture_files(source):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                moment = capture.record_time_key(str((record.get("eventMetadata") or {}).get("inferenceTime") or ""))
                if (low and moment < low) or (high and moment >= high):
                    continue
                yield InferenceRecord(record)


def _preprocessed(records: Iterator[Any], preprocessor: RecordPreprocessor) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for record in records:
        rows.extend(positional_names(preprocessor.rows(record)))
    return capture.rows_table(rows)
