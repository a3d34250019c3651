"""The AWS query protocol driven by botocore's model: form parameters in, XML out.

Older clients (botocore before CloudWatch moved to CBOR, the AWS CLI v1, other SDKs)
send CloudWatch requests as ``Action=<Operation>&Version=...`` forms whose keys spell the
input shape's paths (``MetricData.member.1.Dimensions.member.2.Name``). `parse` turns such
a form into the request a JSON client would have sent (typed scalars, timestamps as
datetimes); `response` writes an output shape as the ``<Operation>Response`` document the
client's query parser reads.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from sagebox.edge.errors import AWSError
from sagebox.edge.json_protocol import parse_timestamp

Tree = dict[str, Any]


def form_tree(form: dict[str, str]) -> Tree:
    """The form's keys split at dots into nested dicts (leaves are the submitted strings)."""
    tree: Tree = {}
    for key, value in form.items():
        node = tree
        *path, last = key.split(".")
        for part in path:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # "A=1&A.B=2": keep the deeper form
                child = node[part] = {}
            node = child
        if not isinstance(node.get(last), dict):
            node[last] = value
    return tree


def parse(shape: Shape | None, form: dict[str, str]) -> dict[str, Any]:
    """The request `form` sends, as typed values; AWSError naming a key that does not parse."""
    if shape is None:
        return {}
    parsed = _value(shape, form_tree(form), "")
    return parsed if isinstance(parsed, dict) else {}


def _name(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name", default))


def _value(shape: Shape, node: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(node, dict):
            raise AWSError("MalformedQueryString", f"{path or 'the request'} must be a structure.")
        result: dict[str, Any] = {}
        for member, member_shape in shape.members.items():  # type: ignore[attr-defined]
            key = _name(member_shape, member)
            if key in node:
                result[member] = _value(member_shape, node[key], f"{path}.{key}".lstrip("."))
        return result
    if kind == "list":
        items = node if shape.serialization.get("flattened") else (node.get("member") if isinstance(node, dict) else None)
        if node == "":  # an empty list is sent as "Name="
            return []
        return [_value(shape.member, item, f"{path}.member.{index}") for index, item in _indexed(items, path)]  # type: ignore[attr-defined]
    if kind == "map":
        entries = node if shape.serialization.get("flattened") else (node.get("entry") if isinstance(node, dict) else None)
        result = {}
        for index, entry in _indexed(entries, path):
            if not isinstance(entry, dict) or "key" not in entry:
                raise AWSError("MalformedQueryString", f"{path}.entry.{index} has no key.")
            result[str(entry["key"])] = _value(shape.value, entry.get("value", ""), f"{path}.entry.{index}.value")  # type: ignore[attr-defined]
        return result
    if isinstance(node, dict):
        raise AWSError("MalformedQueryString", f"{path} must be a single value, not a structure.")
    return _scalar(kind, node, path)


def _indexed(items: Any, path: str) -> list[tuple[int, Any]]:
    if items is None:
        return []
    if not isinstance(items, dict) or not all(key.isdigit() and int(key) >= 1 for key in items):
        raise AWSError("MalformedQueryString", f"{path}: list members must be numbered from 1.")
    return sorted(((int(key), value) for key, value in items.items()), key=lambda pair: pair[0])


def _scalar(kind: str, text: str, path: str) -> Any:
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "timestamp":
            moment = parse_timestamp(text)
            if moment is None:
                raise ValueError(text)
            return moment
        if kind == "blob":
            return base64.b64decode(text)
    except ValueError as exc:
        raise AWSError(
            "InvalidParameterValue", f"The value {text!r} for parameter {path} is not a valid {kind}."
        ) from exc
    return text


# -- responses -----------------------------------------------------------------------------


def response(operation: OperationModel, result: dict[str, Any] | None, namespace: str, rid: str) -> str:
    """The XML document answering `operation` with `result`."""
    name = operation.name
    body = ""
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper") or f"{name}Result"
        body = f"<{wrapper}>{_members(shape, result or {})}</{wrapper}>"
    return (
        f'<{name}Response xmlns="{namespace}">{body}'
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{name}Response>"
    )


def _members(shape: Shape, value: dict[str, Any]) -> str:
    parts = []
    for member, member_shape in shape.members.items():  # type: ignore[attr-defined]
        if value.get(member) is None:
            continue
        parts.append(_element(_name(member_shape, member), member_shape, value[member]))
    return "".join(parts)


def _element(tag: str, shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        inner = _members(shape, value)
    elif kind == "list":
        member_tag = _name(shape.member, "member")  # type: ignore[attr-defined]
        items = "".join(_element(member_tag, shape.member, item) for item in value)  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            return items
        inner = items
    elif kind == "map":
        inner = "".join(
            f"<entry><key>{escape(str(key))}</key>{_element('value', shape.value, item)}</entry>"  # type: ignore[attr-defined]
            for key, item in value.items()
        )
    else:
        inner = escape(_text(kind, value))
    return f"<{tag}>{inner}</{tag}>"


def _text(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        moment = parse_timestamp(value) or datetime.fromtimestamp(0, tz=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if kind == "blob" and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if kind in ("float", "double"):
        return repr(float(value))
    return str(value)
