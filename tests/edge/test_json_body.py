"""Reading JSON 1.1 bodies: every unreadable body is a SerializationException, never a crash."""

from __future__ import annotations

import pytest

from sagebox.edge.errors import AWSError
from sagebox.edge.json_body import MAX_DEPTH, parse_object


def refused(body: bytes) -> str:
    with pytest.raises(AWSError) as caught:
        parse_object(body)
    assert caught.value.code == "SerializationException" and caught.value.status == 400
    assert len(caught.value.message) < 400
    return caught.value.message


def test_objects_are_read_and_an_empty_body_is_an_empty_object() -> None:
    assert parse_object(b"") == {} and parse_object(b"  \n") == {}
    assert parse_object('{"Name": "\u00e9t\u00e9", "N": [1, {"a": null}]}'.encode()) == {"Name": "\u00e9t\u00e9", "N": [1, {"a": None}]}
    assert parse_object(b'{"Pair": "\\ud83d\\ude00"}') == {"Pair": "\U0001f600"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"Name": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"Name": "\xed\xa0\x80"}', "not valid UTF-8"),
        (b'{"Name": "\\ud800"}', "unpaired surrogate"),
        (b'{"\\udfff": 1}', "unpaired surrogate"),
        (b'{"Count": NaN}', "not valid JSON"),
        (b'{"Count": -Infinity}', "not valid JSON"),
        (b'{"Count": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"Name": "x"', "not valid JSON"),
        (b'{"Name": "x"}}', "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"[" * 200_000, "levels deep"),
        (b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}", "levels deep"),
    ],
)
def test_unreadable_bodies_are_serialization_exceptions(body: bytes, says: str) -> None:
    assert says in refused(body)


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1
    body = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    assert parse_object(body)["a"] == parse_object(body)["a"]
    # Many brackets side by side are not deep nesting.
    assert len(parse_object(b'{"a": [' + b"[], " * 10_000 + b"[]]}")["a"]) == 10_001
