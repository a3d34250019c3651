"""DataProcessing: InputFilter before inference, JoinSource and OutputFilter after.

Only CSV and JSON records take part. A CSV record is treated as a JSON array of its
fields (kept as the strings they are, so values pass through unchanged); a JSON or
JSON Lines record is the JSON value itself. What the filters select is written back
in the record's own format: selected CSV fields as a CSV row, JSON as compact JSON.

With JoinSource Input each output record is joined with the input record it came
from (the input as it was before InputFilter): for CSV, the input's fields followed
by the output's fields; for JSON, the input object with the output added under
`SageMakerOutput` (an input that is not an object goes under `SageMakerInput`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from sagebox.services.transform import jsonpath
from sagebox.services.transform.jsonpath import JsonPath, SelectionError

CSV = "csv"
JSON = "json"
_FORMATS = {
    "text/csv": CSV,
    "application/json": JSON,
    "application/jsonlines": JSON,
    "application/x-jsonlines": JSON,
    "application/jsonl": JSON,
}
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_CSV_SPECIAL = re.compile(r'[",\r\n]')


class RecordProcessingError(Exception):
    """One record could not be filtered or joined; the runner adds file and line."""


def record_format(media_type: str | None) -> str | None:
    """"csv", "json" or None (a format DataProcessing cannot look into)."""
    if not media_type:
        return None
    return _FORMATS.get(media_type.split(";", 1)[0].strip().lower())


@dataclass(frozen=True)
class DataProcessing:
    input_filter: JsonPath
    output_filter: JsonPath
    join_input: bool
    input_format: str | None

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, content_type: str | None) -> DataProcessing:
        """Parses the filters; PathSyntaxError or ValueError say what cannot work."""
        config = config or {}
        processing = cls(
            input_filter=jsonpath.parse(config.get("InputFilter") or "$"),
            output_filter=jsonpath.parse(config.get("OutputFilter") or "$"),
            join_input=config.get("JoinSource", "None") == "Input",
            input_format=record_format(content_type),
        )
        if processing.touches_input and processing.input_format is None:
            raise ValueError(
                "InputFilter and JoinSource work on CSV and JSON records only: set "
                "TransformInput.ContentType to text/csv, application/json or application/jsonlines "
                f"(it is {content_type or 'not set'})"
            )
        for name, path in (("InputFilter", processing.input_filter), ("OutputFilter", processing.output_filter)):
            if processing.input_format == CSV and path.uses_names and (name == "InputFilter" or processing.join_input):
                raise ValueError(
                    f"{name} '{path.text}' selects members by name, but CSV records are arrays of "
                    "fields: select them by index or slice, e.g. $[1:] or $[0,-1]"
                )
        return processing

    @property
    def touches_input(self) -> bool:
        return not self.input_filter.is_identity or self.join_input

    @property
    def active(self) -> bool:
        return self.touches_input or not self.output_filter.is_identity

    # -- before inference ----------------------------------------------------------------

    def request_record(self, record: bytes) -> bytes:
        if self.input_filter.is_identity:
            return record
        value = self._parse_input(record)
        try:
            selected = self.input_filter.select(value)
        except SelectionError as exc:
            raise RecordProcessingError(f"InputFilter '{self.input_filter.text}': {exc}") from exc
        return _write(selected, self.input_format)

    # -- after inference -----------------------------------------------------------------

    def output_record(self, record: bytes, output: bytes, output_type: str | None) -> bytes:
        """The line written for one record: the output, joined and filtered as asked."""
        if not self.join_input and self.output_filter.is_identity:
            return output
        output_format = record_format(output_type)
        if self.join_input:
            value: Any = self._join(self._parse_input(record), output, output_format)
            write_format = self.input_format
        else:
            if output_format is None:
                raise RecordProcessingError(
                    f"OutputFilter '{self.output_filter.text}' needs CSV or JSON output, and the model "
                    f"answered {output_type or 'without a Content-Type'}"
                )
            value = _parse(output, output_format, "the model's output")
            write_format = output_format
        try:
            selected = self.output_filter.select(value)
        except SelectionError as exc:
            raise RecordProcessingError(f"OutputFilter '{self.output_filter.text}': {exc}") from exc
        return _write(selected, write_format)

    def _parse_input(self, record: bytes) -> Any:
        return _parse(record, self.input_format, "the input record")

    def _join(self, value: Any, output: bytes, output_format: str | None) -> Any:
        if self.input_format == CSV:
            if output_format == CSV:
                return value + _csv_fields(output)
            return [*value, output.decode("utf-8", "replace")]
        result = _json_output(output, output_format)
        if isinstance(value, dict):
            return {**value, "SageMakerOutput": result}
        return {"SageMakerInput": value, "SageMakerOutput": result}


def _parse(data: bytes, form: str | None, what: str) -> Any:
    if form == CSV:
        return _csv_fields(data)
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordProcessingError(f"{what} is not valid JSON: {exc}") from exc


def _csv_fields(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordProcessingError(f"the CSV record is not UTF-8 text: {exc}") from exc
    text = text.rstrip("\r\n")
    if '"' not in text:
        return text.split(",")
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise RecordProcessingError(f"the CSV record cannot be parsed: {exc}") from exc
    return rows[0] if rows else []


def _json_output(output: bytes, output_format: str | None) -> Any:
    if output_format == JSON:
        return _parse(output, JSON, "the model's output")
    text = output.decode("utf-8", "replace").rstrip("\r\n")
    if output_format != CSV:
        return text
    values = [_scalar(field) for field in _csv_fields(output)]
    return values[0] if len(values) == 1 else values


def _scalar(text: str) -> Any:
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        number = float(stripped)
        return int(number) if number.is_integer() and not any(c in stripped for c in ".eE") else number
    return text


def _write(value: Any, form: str | None) -> bytes:
    if form == CSV:
        fields = value if isinstance(value, list) else [value]
        cells = [f if isinstance(f, str) else json.dumps(f, separators=(",", ":")) for f in fields]
        if not any(_CSV_SPECIAL.search(cell) for cell in cells):
            return ",".join(cells).encode()
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(cells)
        return buffer.getvalue().encode()
    return json.dumps(value, separators=(",", ":")).encode()
