"""Malformed InvokeEndpoint requests: endpoint names, header members, content types and payloads."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

PAYLOAD_LIMIT = 6 * 1024 * 1024
CSV_ROW = b"0.5,1.5,-2.0"


@dataclass(frozen=True)
class Invocation:
    """One InvokeEndpoint request and what its answer must say."""

    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = CSV_ROW
    must_fail: bool = False
    code: str | None = None  # the __type it must get when it fails
    names: str | None = None  # text the message must contain


# Header member -> (header name, member path in messages, values that break its constraints).
_BROKEN_HEADERS: dict[str, tuple[str, str, list[str]]] = {
    "CustomAttributes": (
        "X-Amzn-SageMaker-Custom-Attributes", "customAttributes", ["a" * 1025, "b" * 9000, "caf\u00e9=1"],
    ),
    "ContentType": ("Content-Type", "contentType", ["t" * 1025, "text/csv; charset=\u00e9"]),
    "Accept": ("Accept", "accept", ["a" * 1025, "\u00e9"]),
    "TargetVariant": ("X-Amzn-SageMaker-Target-Variant", "targetVariant", ["v" * 64, "bad variant", "-x"]),
    "TargetContainerHostname": ("X-Amzn-SageMaker-Target-Container-Hostname", "targetContainerHostname", ["h" * 64, "a_b"]),
    "InferenceId": ("X-Amzn-SageMaker-Inference-Id", "inferenceId", ["i" * 65, "tab\tinside"]),
    "TargetModel": ("X-Amzn-SageMaker-Target-Model", "targetModel", ["m" * 1025, "tab\tinside"]),
    "SessionId": ("X-Amzn-SageMaker-Session-Id", "sessionId", ["s" * 257, "not a session"]),
    "InferenceComponentName": ("X-Amzn-SageMaker-Inference-Component", "inferenceComponentName", ["c" * 64, "-c"]),
}
_CONTENT_TYPES = [
    "text/csv", "application/json", "application/jsonlines", "application/x-recordio-protobuf",
    "text/libsvm", "application/x-npy", "image/png", "garbage", "text/csv; charset=utf-8", "",
]
_BODIES = [
    CSV_ROW, b"", b"\xff\xfe\x00\x01", b"not,numbers,at,all", b"1,2", b'{"instances": [[1, 2, 3]]}',
    b"\n\n\n", b"1e400,nan,inf", b"0.1," * 10_000 + b"0.1",
]


@st.composite
def invocation(draw: st.DrawFn, endpoint: str) -> Invocation:
    """A request for `endpoint` (or for a name that is unknown or invalid) that may break one member."""
    kind = draw(st.sampled_from(["served", "header", "name", "unknown", "oversized"]))
    headers = {"Content-Type": draw(st.sampled_from(_CONTENT_TYPES))}
    body = draw(st.sampled_from(_BODIES))
    if kind == "served":  # a real endpoint with any content type and payload: a 2xx or a ModelError, never a 5xx
        if draw(st.booleans()):
            headers["X-Amzn-SageMaker-Custom-Attributes"] = "c" * draw(st.sampled_from([0, 1, 1024]))
        return Invocation(endpoint, headers, body)
    if kind == "header":
        member = draw(st.sampled_from(sorted(_BROKEN_HEADERS)))
        header, path, values = _BROKEN_HEADERS[member]
        headers[header] = draw(st.sampled_from(values))
        return Invocation(endpoint, headers, body, True, "ValidationError", f"at '{path}'")
    if kind == "name":
        name = draw(st.sampled_from(["e" * 64, "-bad", "bad_name", "sp ace", "\u00e9t\u00e9", "a" * 5000]))
        return Invocation(name, headers, body, True, "ValidationError", "at 'endpointName'")
    if kind == "unknown":
        return Invocation("sagebox-no-such-endpoint", headers, body, True, "ValidationError", "sagebox-no-such-endpoint")
    return Invocation(endpoint, {"Content-Type": "text/csv"}, b"1," * (PAYLOAD_LIMIT // 2 + 1), True, "ValidationError")
