"""The REST-XML protocol driven by botocore's model: response bodies and headers.

Members are written in the model's order under their serialized names; flattened lists
repeat their element, other lists wrap it. Timestamps are ISO 8601 with milliseconds
and "Z" in bodies and RFC 1123 in headers, as S3 writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from botocore.model import Shape, StructureShape

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def iso_timestamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def document(root: str, shape: StructureShape, data: Mapping[str, Any]) -> bytes:
    """`data` (model member names) as an XML document with root element `root`."""
    inner = "".join(_members(shape, data))
    return f'{XML_DECLARATION}<{root} xmlns="{S3_NAMESPACE}">{inner}</{root}>'.encode()


def headers(shape: StructureShape, data: Mapping[str, Any]) -> dict[str, str]:
    """The header-bound members of `data`: `header` members and `headers` prefix maps."""
    found: dict[str, str] = {}
    for name, member in shape.members.items():
        value = data.get(name)
        if value is None:
            continue
        location = member.serialization.get("location")
        if location == "header":
            found[member.serialization["name"]] = _header_value(member, value)
        elif location == "headers":
            prefix = member.serialization["name"]
            for key, item in value.items():
                found[f"{prefix}{key}"] = str(item)
    return found


def _header_value(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return iso_timestamp(value)
        return http_date(value)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


def _members(shape: StructureShape, data: Mapping[str, Any]) -> list[str]:
    parts = []
    for name, member in shape.members.items():
        value = data.get(name)
        if value is None or member.serialization.get("location"):
            continue
        parts.append(_element(member.serialization.get("name", name), member, value))
    return parts


def _element(name: str, shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        return f"<{name}>{''.join(_members(shape, value))}</{name}>"  # type: ignore[arg-type]
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            return "".join(_element(name, member, item) for item in value)
        item_name = member.serialization.get("name", "member")
        items = "".join(_element(item_name, member, item) for item in value)
        return f"<{name}>{items}</{name}>"
    if kind == "timestamp":
        text = iso_timestamp(value)
    elif kind == "boolean":
        text = "true" if value else "false"
    else:
        text = escape(str(value))
    return f"<{name}>{text}</{name}>"


def parse(body: bytes) -> ElementTree.Element | None:
    """The root element of an XML request body without namespaces, or None if malformed."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def child_text(element: ElementTree.Element, name: str) -> str | None:
    child = element.find(name)
    return None if child is None else (child.text or "")
