"""``python -m sagebox.serving --handler sagebox.serving.handlers.xgboost``: run one model server.

The model folder is ``$SAGEMAKER_BASE_DIR/model`` (base ``/opt/ml`` by default), the
port ``$SAGEMAKER_BIND_TO_PORT`` (8080 by default); flags override both. It listens on
127.0.0.1, or on ``$SAGEBOX_BIND_ADDRESS`` (a cluster node's address, set by the executor
that placed it there). The model is
loaded before the server listens: if that fails, one line starting ``ModelLoadError:``
goes to stderr and the process exits 1. Once listening it prints
``sagebox model server ready on port N``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from sagebox.algorithms.process_exit import exit_at_once
from sagebox.serving.errors import ModelLoadError
from sagebox.serving.handlers import load_handler
from sagebox.serving.server import HOST, InferenceApp, run

PORT_VARIABLE = "SAGEMAKER_BIND_TO_PORT"
BASE_DIR_VARIABLE = "SAGEMAKER_BASE_DIR"
DEFAULT_PORT = 8080
DEFAULT_BASE_DIR = "/opt/ml"
EXIT_MODEL_LOAD_FAILED = 1
EXIT_WITH_PARENT_VARIABLE = "SAGEBOX_EXIT_WITH_PARENT"
# runtime.executor.BIND_ADDRESS_VARIABLE: the model server does not import the runtime.
BIND_ADDRESS_VARIABLE = "SAGEBOX_BIND_ADDRESS"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sagebox.serving", description="Run a SageMaker-compatible model server."
    )
    parser.add_argument("--handler", required=True, help="the handler module, e.g. sagebox.serving.handlers.xgboost")
    parser.add_argument(
        "--model-dir",
        type=Path,
        help=f"the unpacked model (default: ${BASE_DIR_VARIABLE}/model)",
    )
    parser.add_argument(
        "--port", type=int, help=f"TCP port on 127.0.0.1 (default: ${PORT_VARIABLE} or 8080)"
    )
    return parser


def _port(value: int | None) -> int:
    if value is not None:
        return value
    text = os.environ.get(PORT_VARIABLE) or str(DEFAULT_PORT)
    try:
        return int(text)
    except ValueError:
        raise SystemExit(f"{PORT_VARIABLE}={text!r} is not a port number") from None


def _announce(port: int) -> None:
    print(f"sagebox model server ready on port {port}", flush=True)


def _exit_with_parent(interval: float = 1.0) -> None:
    """Ends this server once the process that started it is gone.

    A platform that dies without stopping its model servers (a crash, SIGKILL) must
    not leave them holding ports; an orphan is re-parented, so a changed parent pid
    means exactly that. Only watched when the platform asks for it.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if os.environ.get(EXIT_WITH_PARENT_VARIABLE) == "1":
        _exit_with_parent()
    base = Path(os.environ.get(BASE_DIR_VARIABLE) or DEFAULT_BASE_DIR)
    model_dir = args.model_dir or base / "model"
    port = _port(args.port)
    try:
        handler = load_handler(args.handler, model_dir)
    except KeyError as exc:
        print(f"ModelLoadError: {exc.args[0]}", file=sys.stderr, flush=True)
        return EXIT_MODEL_LOAD_FAILED
    except ModelLoadError as exc:
        print(f"ModelLoadError: {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
        return EXIT_MODEL_LOAD_FAILED
    except Exception as exc:  # noqa: BLE001 - whatever breaks loading is the failure reason
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"ModelLoadError: {message}", file=sys.stderr, flush=True)
        return EXIT_MODEL_LOAD_FAILED
    run(InferenceApp(handler), port, _announce, host=os.environ.get(BIND_ADDRESS_VARIABLE) or HOST)
    return 0


if __name__ == "__main__":
    # Once uvicorn has shut down (every request answered), skip the interpreter's
    # slow teardown: whoever stops this server waits for the process to end.
    exit_at_once(main())
