"""CloudWatch Logs over JSON 1.1 (``X-Amz-Target: Logs_20140328.<Operation>``): job and endpoint logs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import json_service
from sagebox.edge.json_service import Handler
from sagebox.services.platform import Platform

TARGET_PREFIX = "Logs_20140328."

OPERATIONS: dict[str, Handler] = {
    "DescribeLogGroups": lambda p, r: p.logs.describe_log_groups(r),
    "DescribeLogStreams": lambda p, r: p.logs.describe_log_streams(r),
    "GetLogEvents": lambda p, r: p.logs.get_log_events(r),
    "FilterLogEvents": lambda p, r: p.logs.filter_log_events(r),
}


async def handle(request: Request, body: bytes, platform: Platform, rid: str) -> Response:
    return await json_service.handle("logs", "CloudWatch Logs", OPERATIONS, request, body, platform, rid)
