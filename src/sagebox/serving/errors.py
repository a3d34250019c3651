"""Errors a model server answers with, each bound to its HTTP status.

Handlers raise these from ``predict``; the server turns them into a plain-text
response with the exception's message as the body. Anything else becomes a 500.
"""

from __future__ import annotations


class ServingError(Exception):
    """A request the model server answers with ``status`` and this message."""

    status = 500


class BadRequest(ServingError):
    """The payload cannot be decoded or does not fit the model (400)."""

    status = 400


class UnsupportedContentType(ServingError):
    """The request's Content-Type is not one the handler reads (415)."""

    status = 415

    def __init__(self, content_type: str, supported: tuple[str, ...]) -> None:
        self.content_type = content_type
        self.supported = supported
        super().__init__(
            f"Content-Type '{content_type}' is not supported; supported content types: "
            + ", ".join(supported)
        )


class UnsupportedAccept(ServingError):
    """The request's Accept names no type the handler writes (406)."""

    status = 406

    def __init__(self, accept: str, supported: tuple[str, ...]) -> None:
        self.accept = accept
        self.supported = supported
        super().__init__(
            f"Accept '{accept}' is not supported; supported accept types: " + ", ".join(supported)
        )


class NoContent(ServingError):
    """The request body is empty: answered with 204 and no body, as SageMaker's XGBoost does."""

    status = 204


class ModelLoadError(Exception):
    """The model folder holds no model the handler can load; the message says why."""
