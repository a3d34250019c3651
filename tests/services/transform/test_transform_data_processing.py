"""InputFilter, JoinSource and OutputFilter on CSV and JSON records, and the JSONPath subset."""

from __future__ import annotations

import json

import pytest

from sagebox.services.transform import jsonpath
from sagebox.services.transform.data_processing import DataProcessing, RecordProcessingError
from sagebox.services.transform.jsonpath import PathSyntaxError, SelectionError
from sagebox.services.transform.outputs import split_answer


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("$", [1, 2], [1, 2]),
        ("$[1:]", [1, 2, 3], [2, 3]),
        ("$[0]", [1, 2, 3], 1),
        ("$[-1]", [1, 2, 3], 3),
        ("$[0,-1]", [1, 2, 3], [1, 3]),
        ("$[0, 2:]", [1, 2, 3, 4], [1, 3, 4]),
        ("$[:2]", [1, 2, 3], [1, 2]),
        ("$[*]", [1, 2], [1, 2]),
        ("$.features", {"features": [1, 2]}, [1, 2]),
        ("$['id','SageMakerOutput']", {"id": 7, "x": 1, "SageMakerOutput": 0.5}, {"id": 7, "SageMakerOutput": 0.5}),
        ("$.a.b[1]", {"a": {"b": [5, 6]}}, 6),
        ("$.a.['b','c']", {"a": {"b": 1, "c": 2, "d": 3}}, {"b": 1, "c": 2}),
        ("$.rows[*].x", {"rows": [{"x": 1}, {"x": 2}]}, [1, 2]),
        ('$["id"]', {"id": 3}, 3),
    ],
)
def test_jsonpath_subset(path: str, value: object, expected: object) -> None:
    assert jsonpath.parse(path).select(value) == expected


@pytest.mark.parametrize("path", ["features", "$..a", "$[a]", "$[1:2:0]", "$[", "$.", "$['a'"])
def test_jsonpath_syntax_errors(path: str) -> None:
    with pytest.raises(PathSyntaxError):
        jsonpath.parse(path)


def test_jsonpath_selection_errors() -> None:
    with pytest.raises(SelectionError, match="out of range"):
        jsonpath.parse("$[5]").select([1, 2])
    with pytest.raises(SelectionError, match="no member 'b'"):
        jsonpath.parse("$.b").select({"a": 1})


def csv_processing(**config: str) -> DataProcessing:
    return DataProcessing.from_config(config, "text/csv")


def test_csv_input_filter_join_and_output_filter() -> None:
    processing = csv_processing(InputFilter="$[1:]", JoinSource="Input", OutputFilter="$[0,-1]")
    assert processing.request_record(b"id-7,1.5,2.5") == b"1.5,2.5"
    assert processing.output_record(b"id-7,1.5,2.5", b"0.25", "text/csv") == b"id-7,0.25"


def test_csv_values_pass_through_unchanged_and_quoting_survives() -> None:
    processing = csv_processing(InputFilter="$[0,2]")
    assert processing.request_record(b'"a, b",1.000000001,x') == b'"a, b",x'
    joined = csv_processing(JoinSource="Input")
    assert joined.output_record(b"1,2", b"0.5,0.6", "text/csv") == b"1,2,0.5,0.6"


def test_csv_index_out_of_range_is_a_record_error() -> None:
    processing = csv_processing(InputFilter="$[4]")
    with pytest.raises(RecordProcessingError, match="index 4 is out of range"):
        processing.request_record(b"1,2")


def test_json_filter_and_join_under_sagemaker_output() -> None:
    processing = DataProcessing.from_config(
        {"InputFilter": "$.features", "JoinSource": "Input", "OutputFilter": "$['id','SageMakerOutput']"},
        "application/jsonlines",
    )
    record = b'{"id": "a1", "features": [1, 2.5], "note": "x"}'
    assert json.loads(processing.request_record(record)) == [1, 2.5]
    out = processing.output_record(record, b'{"score": 0.75}', "application/jsonlines")
    assert json.loads(out) == {"id": "a1", "SageMakerOutput": {"score": 0.75}}
    csv_out = processing.output_record(record, b"0.75", "text/csv")
    assert json.loads(csv_out) == {"id": "a1", "SageMakerOutput": 0.75}


def test_json_input_that_is_not_an_object_goes_under_sagemaker_input() -> None:
    processing = DataProcessing.from_config({"JoinSource": "Input"}, "application/json")
    out = processing.output_record(b"[1, 2]", b"[0.5]", "application/json")
    assert json.loads(out) == {"SageMakerInput": [1, 2], "SageMakerOutput": [0.5]}


def test_invalid_json_record_is_a_record_error() -> None:
    processing = DataProcessing.from_config({"InputFilter": "$.features"}, "application/jsonlines")
    with pytest.raises(RecordProcessingError, match="not valid JSON"):
        processing.request_record(b'{"features": [1, 2}')


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="ContentType"):
        DataProcessing.from_config({"InputFilter": "$[1:]"}, None)
    with pytest.raises(ValueError, match="CSV records are arrays"):
        csv_processing(InputFilter="$.features")
    assert not DataProcessing.from_config({"InputFilter": "$", "JoinSource": "None"}, None).active


def test_split_answer_matches_outputs_to_records() -> None:
    assert split_answer(b"1\n2\n3\n", "text/csv", 3) == [b"1", b"2", b"3"]
    assert split_answer(b"1\r\n2", "text/csv; charset=utf-8", 2) == [b"1", b"2"]
    assert split_answer(b'{"predictions": [{"score": 1}, {"score": 2}]}', "application/json", 2) == [
        b'{"score":1}',
        b'{"score":2}',
    ]
    assert split_answer(b"only\n", "text/csv", 1) == [b"only"]
    with pytest.raises(ValueError, match="2 lines"):
        split_answer(b"1\n2\n", "text/csv", 3)
