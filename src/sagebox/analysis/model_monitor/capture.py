"""Captured endpoint traffic (SageMaker's capture JSON Lines) as a table of features.

The monitoring job's ``dataset_source`` holds the capture files of its window
(``<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``, possibly a little more than the window:
records are kept by their ``eventMetadata.inferenceTime``). Each record's captured
payloads (``captureIndexNames``: ``endpointInput``, ``endpointOutput``) become one row per
line of data, the output's columns first (Model Monitor assumes a baseline whose first
columns are the model's outputs), named ``_c0``, ``_c1``, ... by position.

CSV payloads, the common case, never pass through Python one by one: the files are read
by Arrow's JSON reader, the payloads joined into one CSV text in Arrow and parsed by its
CSV reader (a million records in seconds). JSON, base64 and mixed payloads take the
record-by-record path.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from sagebox.analysis.model_monitor.environment import AnalysisError

_PAYLOAD = pa.struct([("observedContentType", pa.string()), ("mode", pa.string()), ("data", pa.string()), ("encoding", pa.string())])
CAPTURE_SCHEMA = pa.schema([
    ("captureData", pa.struct([("endpointInput", _PAYLOAD), ("endpointOutput", _PAYLOAD)])),
    ("eventMetadata", pa.struct([("eventId", pa.string()), ("inferenceTime", pa.string()), ("inferenceId", pa.string())])),
])
INDEX_COLUMNS = {"endpointInput": "input", "endpointOutput": "output"}


def capture_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix in (".jsonl", ".json", ""))


def time_key(moment: datetime) -> str:
    """A moment as comparable text, to the millisecond: 2026-01-02T03:04:05.678."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]


def record_time_key(inference_time: str) -> str:
    """An inferenceTime ("...:05.678Z" or "...:05Z") as comparable text (`time_key`)."""
    return inference_time[:23] if inference_time[19:20] == "." else inference_time[:19] + ".000"


def _time_keys(times: pa.ChunkedArray) -> pa.ChunkedArray:
    with_millis = pc.equal(pc.utf8_slice_codeunits(times, 19, 20), ".")
    whole = pc.binary_join_element_wise(pc.utf8_slice_codeunits(times, 0, 19), ".000", "")
    return pc.if_else(with_millis, pc.utf8_slice_codeunits(times, 0, 23), whole)


def read_records(source: Path, start: datetime | None = None, end: datetime | None = None) -> pa.Table:
    """The capture records of `source` inferred within [start, end), flattened to columns
    input_* / output_* (data, encoding, observedContentType), event_id, inference_id, inference_time."""
    files = capture_files(source)
    options = pajson.ParseOptions(explicit_schema=CAPTURE_SCHEMA, unexpected_field_behavior="ignore", newlines_in_values=False)
    tables = []
    for path in files:
        if path.stat().st_size == 0:
            continue
        laid_out = _read_laid_out(path)
        if laid_out is not None:
            tables.append(laid_out)
            continue
        try:
            tables.append(_flatten(pajson.read_json(path, parse_options=options)))
        except pa.ArrowInvalid as exc:
            raise AnalysisError(f"The capture file {path.name} is not SageMaker capture JSON Lines: {exc}") from exc
    if not tables:
        return _flatten(CAPTURE_SCHEMA.empty_table())
    table = pa.concat_tables(tables)
    times = _time_keys(table.column("inference_time"))
    keep = None
    if start is not None:
        keep = pc.greater_equal(times, time_key(start))
    if end is not None:
        before = pc.less(times, time_key(end))
        keep = before if keep is None else pc.and_(keep, before)
    if keep is None:
        return table
    keep = pc.fill_null(keep, False)
    return table if pc.all(keep).as_py() else table.filter(keep)  # filtering copies every column


# The tokens between double quotes of a capture record as SageMaker (and sagebox) lay it out:
# {"captureData":{"endpointInput":{"observedContentType":"..","mode":"INPUT","data":"..",
# "encoding":".."},"endpointOutput":{...,"mode":"OUTPUT",...}},"eventMetadata":{"eventId":"..",
# "inferenceTime":".."[,"inferenceId":".."]},"eventVersion":"0"}
_LITERALS = {1: "captureData", 3: "endpointInput", 13: "data", 21: "endpointOutput", 31: "data", 39: "eventMetadata",
             45: "inferenceTime"}
_FIELDS = {"input_observedContentType": 7, "input_data": 15, "input_encoding": 19, "output_observedContentType": 25,
           "output_data": 33, "output_encoding": 37, "event_id": 43, "inference_time": 47}
_WIDTHS = {53: None, 57: 51}  # tokens per line -> the inferenceId token, when there is one


def _read_laid_out(path: Path) -> pa.Table | None:
    """The file's records when every line has the standard layout, read by splitting lines at
    double quotes (three times faster than parsing JSON); None otherwise (the JSON reader then
    reads the file). Payloads escaping anything but a final newline take the JSON reader too."""
    wanted = sorted({*_LITERALS, *_FIELDS.values(), 49, 51})
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter='"', quote_char=False, double_quote=False, escape_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in wanted}, include_columns=[f"f{i}" for i in wanted],
                include_missing_columns=True),
        )
        width = len(path.open(encoding="utf-8").readline().split('"'))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if width not in _WIDTHS:
        return None
    for index, literal in _LITERALS.items():
        if not pc.all(pc.equal(table.column(f"f{index}"), literal)).as_py():
            return None
    identity = _WIDTHS[width]
    if identity is not None and not pc.all(pc.equal(table.column("f49"), "inferenceId")).as_py():
        return None
    columns: dict[str, Any] = {}
    for name, index in _FIELDS.items():
        column = table.column(f"f{index}")
        if name.endswith("_data"):
            column = pc.replace_substring_regex(column, r"\\n$", "\n")
            if pc.any(pc.match_substring(column, "\\")).as_py():
                return None  # escapes to decode: the JSON reader decodes them
        columns[name] = column
    columns["inference_id"] = table.column(f"f{identity}") if identity is not None else pa.nulls(table.num_rows, pa.string())
    return pa.table({name: columns[name] for name in _COLUMN_ORDER})


_COLUMN_ORDER = ("input_data", "input_encoding", "input_observedContentType", "output_data", "output_encoding",
                 "output_observedContentType", "event_id", "inference_id", "inference_time")


def _flatten(table: pa.Table) -> pa.Table:
    capture, metadata = table.column("captureData"), table.column("eventMetadata")
    columns: dict[str, Any] = {}
    for index, prefix in INDEX_COLUMNS.items():
        payload = pc.struct_field(capture, index)
        for field in ("data", "encoding", "observedContentType"):
            columns[f"{prefix}_{field}"] = pc.struct_field(payload, field)
    for field, name in (("eventId", "event_id"), ("inferenceId", "inference_id"), ("inferenceTime", "inference_time")):
        columns[name] = pc.struct_field(metadata, field)
    return pa.table({name: columns[name] for name in _COLUMN_ORDER})


def features(records: pa.Table, index_names: tuple[str, ...], numeric: list[bool] | None = None) -> pa.Table:
    """The records' payload columns (outputs first), one row per line of data, named _c0, _c1, ...

    `numeric` says, by position, which columns the baseline found numeric: those are read
    as numbers straight away (and untyped if the data disagrees)."""
    prefixes = [INDEX_COLUMNS[name] for name in ("endpointOutput", "endpointInput") if name in index_names]
    if not prefixes or records.num_rows == 0:
        return pa.table({})
    present = None
    for prefix in prefixes:
        has = pc.is_valid(records.column(f"{prefix}_data"))
        present = has if present is None else pc.and_(present, has)
    if not pc.all(present).as_py():
        records = records.filter(present)
    if records.num_rows == 0:
        return pa.table({})
    parts = []
    position = 0
    for prefix in prefixes:
        width = _width(records, prefix)
        kinds = (numeric or [])[position : position + width] if width else []
        types = {i: pa.float64() for i, flag in enumerate(kinds) if flag} if width and len(kinds) == width else None
        parts.append(_fast_csv(records, prefix, types))
        position += width or 0
    if any(part is None for part in parts):
        return _record_by_record(records, prefixes)
    return _positional([column for part in parts for column in part.columns])  # type: ignore[union-attr]


def _fast_csv(records: pa.Table, prefix: str, types: dict[int, pa.DataType] | None = None) -> pa.Table | None:
    """The payloads as one CSV text parsed by Arrow, when every one of them is plain CSV.

    Payloads that already end with a newline are a CSV text as they lie in Arrow's buffer;
    others are joined with newlines first (empty lines, from payloads that had one, are
    skipped by the reader). `types` (column position: type) spares the reader its type
    inference; if a value does not fit, the columns are read untyped."""
    encodings = pc.unique(pc.fill_null(records.column(f"{prefix}_encoding"), "")).to_pylist()
    if encodings != ["CSV"]:
        return None
    data = records.column(f"{prefix}_data")
    if data.num_chunks == 1 and pc.all(pc.ends_with(data, "\n")).as_py():
        chunk = data.chunk(0)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        text = chunk.buffers()[2].slice(int(offsets[0]), int(offsets[-1]) - int(offsets[0]))
    else:
        text = pa.py_buffer("\n".join(data.to_pylist()).encode("utf-8"))
    for given in ([types] if types else []) + [None]:
        names = [f"f{i}" for i in range(max(given) + 1)] if given else None
        try:
            return pacsv.read_csv(
                pa.BufferReader(text),
                read_options=pacsv.ReadOptions(column_names=names, autogenerate_column_names=names is None),
                convert_options=pacsv.ConvertOptions(
                    strings_can_be_null=True, column_types={f"f{i}": t for i, t in (given or {}).items()}),
            )
        except pa.ArrowInvalid:
            continue  # a value that is not of the expected type, or ragged rows
    return None  # ragged rows: the record-by-record path says which


def _width(records: pa.Table, prefix: str) -> int | None:
    """The number of CSV values of the first payload (a guess of every payload's width)."""
    first = records.column(f"{prefix}_data")[0].as_py() or ""
    return first.split("\n", 1)[0].count(",") + 1 if first else None


def _positional(columns: list[pa.ChunkedArray | pa.Array]) -> pa.Table:
    return pa.table({f"_c{i}": column for i, column in enumerate(columns)})


def payload_values(data: str, encoding: str | None, content_type: str | None) -> list[list[Any] | dict[str, Any]]:
    """The rows one payload holds: CSV lines and JSON arrays by position, JSON objects by
    their (flattened, dotted) keys; a JSON payload may be one value or JSON Lines."""
    if encoding == "BASE64":
        data = base64.b64decode(data).decode("utf-8", "replace")
        encoding = "JSON" if "json" in (content_type or "") else "CSV"
    if encoding == "JSON":
        return [_json_row(item) for item in _json_items(data)]
    return [line.split(",") for line in data.splitlines() if line.strip()]


def _json_items(data: str) -> Iterator[Any]:
    text = data.strip()
    try:
        yield json.loads(text)
    except json.JSONDecodeError:
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)


def _json_row(item: Any) -> list[Any] | dict[str, Any]:
    if isinstance(item, dict):
        return flatten_json(item)
    if isinstance(item, list):
        return item
    return [item]


def flatten_json(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_json(value, name + "."))
        else:
            flat[name] = value
    return flat


def _record_by_record(records: pa.Table, prefixes: list[str]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    columns = {prefix: records.column(f"{prefix}_data").to_pylist() for prefix in prefixes}
    encodings = {prefix: records.column(f"{prefix}_encoding").to_pylist() for prefix in prefixes}
    types = {prefix: records.column(f"{prefix}_observedContentType").to_pylist() for prefix in prefixes}
    try:
        for index in range(records.num_rows):
            parts = [payload_values(columns[p][index], encodings[p][index], types[p][index]) for p in prefixes]
            for line in range(max(len(part) for part in parts)):
                rows.append(combine_row([part[line] if line < len(part) else [] for part in parts]))
    except (json.JSONDecodeError, ValueError) as exc:
        raise AnalysisError(f"A captured payload could not be read as its encoding says: {exc}") from exc
    return rows_table(rows)


def combine_row(parts: list[list[Any] | dict[str, Any]]) -> dict[str, Any]:
    """One row from payload parts: positional values become _c0, _c1, ... in order, keyed
    values keep their names."""
    row: dict[str, Any] = {}
    position = 0
    for part in parts:
        if isinstance(part, dict):
            row.update(part)
            continue
        for value in part:
            row[f"_c{position}"] = value
            position += 1
    return row


def rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as text columns, in the order their names first appear (missing values null)."""
    names: dict[str, None] = {}
    for row in rows:
        for name in row:
            names.setdefault(name, None)
    return pa.table({name: pa.array([_text(row.get(name)) for row in rows], type=pa.string()) for name in names})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
