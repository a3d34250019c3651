"""Errors raised by the metadata store."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the metadata store raises."""


class AlreadyExists(StoreError):
    """A resource of this kind with this name (or its ARN) is already stored."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} already exists")
        self.kind = kind
        self.name = name


class NotFound(StoreError):
    """No resource of this kind with this name is stored."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} does not exist")
        self.kind = kind
        self.name = name


class InvalidNextToken(StoreError):
    """A pagination token that does not decode or belongs to another query."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"invalid NextToken for listing {kind}: {reason}")
        self.kind = kind
        self.reason = reason


class QueryError(StoreError, ValueError):
    """A document query that cannot be run: a bad path, operator, value or sort.

    It is also a ValueError, as the listing methods' other argument errors are.
    """
