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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class HandlerSpec:
    """A registered handler: its name and the module whose ``load`` builds it."""

    name: str
    module: str

    def load(self, model_dir: Path) -> Handler:
        loader: HandlerLoader = importlib.import_module(self.module).load
        return loader(model_dir)


HANDLERS: dict[str, HandlerSpec] = {
    spec.name: spec
    for spec in (
        HandlerSpec("xgboost", "sagebox.serving.handlers.xgboost"),
        HandlerSpec("linear-learner", "sagebox.serving.handlers.linear_learner"),
        HandlerSpec("kmeans", "sagebox.serving.handlers.kmeans"),
        HandlerSpec("pca", "sagebox.serving.handlers.pca"),
        HandlerSpec("knn", "sagebox.serving.handlers.knn"),
        HandlerSpec("randomcutforest", "sagebox.serving.handlers.random_cut_forest"),
        HandlerSpec("factorization-machines", "sagebox.serving.handlers.factorization_machines"),
        HandlerSpec("script", "sagebox.serving.handlers.script"),
    )
}


def load_handler(name: str, model_dir: Path) -> Handler:
    """Build the named handler for a model folder; raises ``KeyError`` for unknown names."""
    try:
        spec = HANDLERS[name]
    except KeyError:
        known = ", ".join(sorted(HANDLERS))
        raise KeyError(f"unknown handler '{name}'; known handlers: {known}") from None
    return spec.load(model_dir)
