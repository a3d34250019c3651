"""Content-Type parsing and Accept negotiation."""

from __future__ import annotations

import pytest

from sagebox.serving import media
from sagebox.serving.errors import UnsupportedAccept, UnsupportedContentType

SUPPORTED = (media.CSV, media.JSON, media.JSONLINES)


@pytest.mark.parametrize(
    ("header", "name", "parameters"),
    [
        ("text/csv", "text/csv", ()),
        ("Text/CSV; charset=UTF-8", "text/csv", (("charset", "UTF-8"),)),
        ('text/csv;label_size = "0"', "text/csv", (("label_size", "0"),)),
        ("text/x-libsvm", "text/libsvm", ()),
        ("csv", "text/csv", ()),
        ("application/x-jsonlines", "application/jsonlines", ()),
    ],
)
def test_parse_media_type(header: str, name: str, parameters: tuple[tuple[str, str], ...]) -> None:
    parsed = media.parse_media_type(header)
    assert parsed.name == name and parsed.parameters == parameters


def test_content_type_defaults_and_rejects() -> None:
    assert media.content_type("", SUPPORTED, media.CSV).name == media.CSV
    with pytest.raises(UnsupportedContentType) as raised:
        media.content_type("text/plain", SUPPORTED, media.CSV)
    assert raised.value.status == 415
    assert str(raised.value) == (
        "Content-Type 'text/plain' is not supported; supported content types: "
        "text/csv, application/json, application/jsonlines"
    )


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("", media.JSON),
        ("*/*", media.JSON),
        ("text/csv", media.CSV),
        ("application/jsonlines; charset=utf-8", media.JSONLINES),
        ("image/png, text/csv", media.CSV),
        ("text/csv;q=0.2, application/jsonlines;q=0.9", media.JSONLINES),
        ("text/*", media.CSV),
        ("application/*", media.JSON),
        ("text/csv;q=0, */*", media.JSON),
    ],
)
def test_negotiate(header: str, chosen: str) -> None:
    assert media.negotiate(header, SUPPORTED, media.JSON) == chosen


def test_negotiate_rejects_unsupported_types() -> None:
    with pytest.raises(UnsupportedAccept) as raised:
        media.negotiate("image/png, text/html", SUPPORTED, media.CSV)
    assert raised.value.status == 406
    assert "'image/png, text/html' is not supported" in str(raised.value)
