"""Who is calling: the identity SageMaker records in CreatedBy / LastModifiedBy.

SageMaker stamps some resources (model packages and their groups, experiments, trials,
...) with a ``UserContext`` naming the IAM identity that made the change. The edge knows
the caller (the access key that signed the request, or the execution-role identity
sagebox answers GetCallerIdentity with when authentication is off) and sets it for the
duration of one request with `acting_as`; services read it with `user_context`. A
service called without HTTP (tests, the CLI) acts as the account itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallerIdentity:
    """An IAM identity as STS GetCallerIdentity names it."""

    arn: str
    principal_id: str

    def user_context(self) -> dict[str, Any]:
        """SageMaker's UserContext for this identity (outside Studio: its IamIdentity only)."""
        return {"IamIdentity": {"Arn": self.arn, "PrincipalId": self.principal_id}}


_current: ContextVar[CallerIdentity | None] = ContextVar("sagebox_caller", default=None)


@contextmanager
def acting_as(identity: CallerIdentity) -> Iterator[None]:
    """Within the block (and the worker threads it hands work to), `identity` is the caller."""
    token = _current.set(identity)
    try:
        yield
    finally:
        _current.reset(token)


def current_caller(account_id: str) -> CallerIdentity:
    """The caller of the request being served; the account's root outside a request."""
    identity = _current.get()
    if identity is not None:
        return identity
    return CallerIdentity(f"arn:aws:iam::{account_id}:root", account_id)


def user_context(account_id: str) -> dict[str, Any]:
    return current_caller(account_id).user_context()
