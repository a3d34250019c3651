"""The floor for endpoint latency: a bare ASGI app that calls the booster in-process.

`python bench/floor_server.py <model file> <port>`: POST /invocations with CSV rows
answers the predictions as CSV, and nothing else. No routing, no validation, no
second hop: the least any model server over HTTP can do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import uvicorn
import xgboost


def build(model_path: str):  # noqa: ANN201 - an ASGI callable
    booster = xgboost.Booster(model_file=bytearray(Path(model_path).read_bytes()))

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        rows = np.atleast_2d(np.array([[float(v) for v in line.split(",")] for line in body.decode().splitlines() if line]))
        answer = "\n".join(repr(float(p)) for p in booster.inplace_predict(rows)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]})
        await send({"type": "http.response.body", "body": answer})

    return app


if __name__ == "__main__":
    uvicorn.run(build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
