"""Model handlers: what a model server does with a model folder and each request.

A handler module exposes ``load(model_dir) -> Handler``; it raises ``ModelLoadError``
when the folder holds no model it can serve. ``Handler.predict`` turns a request body
into a response body and raises the typed errors of ``sagebox.serving.errors``
(``BadRequest``, ``UnsupportedContentType``, ``UnsupportedAccept``) for requests it
cannot answer. Handlers are imported only when chosen, so a server loads only the
libraries its model needs.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol


class Handler(Protocol):
    """A loaded model that answers ``/invocations`` requests."""

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """(response body, response Content-Type) for a request body.

        ``content_type`` and ``accept`` are the request's raw header values, ``""``
        when absent. Runs in a worker thread; must be safe to call concurrently.
        """
        ...


class HandlerLoader(Protocol):
    def __call__(self, model_dir: Path) -> Handler: ...


# Every handler module lives here; a built-in algorithm names its own in its AlgorithmSpec
# (`serving_module`), the one table that links algorithms and handlers.
PACKAGE = "sagebox.serving.handlers"
SCRIPT = f"{PACKAGE}.script"
"""The handler of models served through the user's inference script (script mode)."""


def load_handler(module: str, model_dir: Path) -> Handler:
    """Build a model folder's handler with `module`'s ``load``; ``KeyError`` for a module
    outside this package (the model server runs only sagebox's own handlers)."""
    if not module.startswith(f"{PACKAGE}.") or not module[len(PACKAGE) + 1 :].isidentifier():
        raise KeyError(f"unknown handler '{module}': a handler is a module of {PACKAGE}")
    try:
        loader: HandlerLoader = importlib.import_module(module).load
    except ModuleNotFoundError as exc:
        raise KeyError(f"unknown handler '{module}': no such module") from exc
    return loader(model_dir)
