"""Which AWS service a request is for: X-Amz-Target, the SigV4 credential scope, the path."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.requests import Request

_INVOCATION = re.compile(r"^/endpoints/[^/]+/(invocations|async-invocations)$")
# sagemaker-metrics signs as "sagemaker" (botocore's signingName); its operations are paths.
_METRICS_PATHS = ("/BatchPutMetrics", "/BatchGetMetrics")
_CLOUDWATCH_TARGET = "GraniteServiceVersion20100801."
_CLOUDWATCH_CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def credential_scope(request: Request) -> tuple[str, str] | None:
    """(region, service) named by the request's SigV4 signature, header or presigned query."""
    match = _SCOPE.search(request.headers.get("authorization", ""))
    if match:
        return match.group(1), match.group(2)
    credential = request.query_params.get("X-Amz-Credential")
    if credential:
        parts = credential.split("/")
        if len(parts) >= 5:
            return parts[2], parts[3]
    return None


def is_console_path(request: Request) -> bool:
    """Whether an unsigned request is for the web console (/ui and below). No S3 bucket can
    be named "ui" (names have 3 to 63 characters), so the path is free; a request signed
    or presigned for a service still goes to that service."""
    path = request.url.path
    if path != "/ui" and not path.startswith("/ui/"):
        return False
    query = request.query_params
    return not any(name in query for name in ("AWSAccessKeyId", "Signature", "X-Amz-Signature"))


def service_of(request: Request, body: bytes) -> str:
    """The service to route to: sagemaker, logs, cloudwatch, sagemaker-runtime, sagemaker-metrics, sts, iam, s3,
    health, ui (the web console), or unknown:<name>."""
    target = request.headers.get("x-amz-target", "")
    if target.startswith("SageMaker."):
        return "sagemaker"
    if target.startswith("Logs_20140328."):
        return "logs"
    path = request.url.path
    if target.startswith(_CLOUDWATCH_TARGET) or path.startswith(_CLOUDWATCH_CBOR_PATH):
        return "cloudwatch"
    if path.startswith("/_sagebox/"):
        return "health"
    scope = credential_scope(request)
    if scope is None and is_console_path(request):
        return "ui"
    service = scope[1] if scope else None
    if service == "sagemaker" and path.startswith("/endpoints/"):
        return "sagemaker-runtime"
    if service == "sagemaker" and path in _METRICS_PATHS:
        return "sagemaker-metrics"
    if service is None and request.method == "POST" and _INVOCATION.match(path):
        return "sagemaker-runtime"
    if service == "sts" or (service is None and _is_sts_form(request, body)):
        return "sts"
    if service == "iam":
        return "iam"
    if service == "monitoring":  # CloudWatch's signing name: its query protocol
        return "cloudwatch"
    if service in (None, "s3"):
        return "s3"
    return f"unknown:{service}"


def _is_sts_form(request: Request, body: bytes) -> bool:
    if request.method != "POST" or request.url.path != "/":
        return False
    if "x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return False
    action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return action in {"GetCallerIdentity", "AssumeRole", "GetSessionToken"}
