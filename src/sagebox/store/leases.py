"""Leases: which server drives a resource's background work, and until when.

Several API servers may share one store. Each resource with background work (a job's
run, a tuning loop, a pipeline execution) is driven by the one server holding its lease;
a lease that is not renewed expires and any server may then take it. Every operation
is one atomic SQL statement, so two servers racing for one lease cannot both win:

- acquire: ``INSERT ... ON CONFLICT (resource_arn) DO UPDATE ... WHERE the lease has
  expired OR its owner is the caller RETURNING owner`` (the same syntax on PostgreSQL
  and SQLite); a row comes back only when the caller holds it now;
- renew: ``UPDATE ... WHERE owner = caller RETURNING resource_arn``: the leases the
  caller still holds (a lease another server took is not among them);
- release: ``DELETE ... WHERE owner = caller``.

Expiry is measured by the database's clock, never a server's, so servers whose clocks
disagree still agree on when a lease has run out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sagebox.store.database import Database
from sagebox.store.tables import leases

# Parameters per IN list, far below SQLite's and PostgreSQL's limits.
_CHUNK = 500


@dataclass(frozen=True)
class Lease:
    resource_arn: str
    owner: str
    seconds_left: float
    """Negative once expired."""


class LeaseRepository:
    """Acquire, renew and release leases on resources by ARN, for one owner at a time."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert

    def _now(self) -> sa.ColumnElement[Any]:
        """The database's clock, in seconds since the epoch."""
        if self._db.dialect == "postgresql":
            return sa.cast(sa.extract("epoch", sa.func.clock_timestamp()), sa.Double)
        # SQLite: julianday('now') has millisecond precision; day 2440587.5 is the epoch.
        return (sa.func.julianday("now") - 2440587.5) * 86400.0

    def acquire(self, arn: str, owner: str, seconds: float) -> bool:
        """Takes or extends the lease on `arn` for `seconds` unless another owner holds
        it unexpired; True when `owner` holds it now."""
        now = self._now()
        statement = self._insert(leases).values(
            resource_arn=arn, owner=owner, expires_at=now + seconds
        )
        statement = statement.on_conflict_do_update(
            index_elements=[leases.c.resource_arn],
            set_={"owner": statement.excluded.owner, "expires_at": statement.excluded.expires_at},
            where=sa.or_(leases.c.expires_at < now, leases.c.owner == owner),
        ).returning(leases.c.owner)
        with self._db.write() as connection:  # a row comes back only when it was written
            return connection.execute(statement).first() is not None

    def renew(self, arns: Iterable[str], owner: str, seconds: float) -> set[str]:
        """Extends `owner`'s leases on `arns`; returns those it still holds (one it had let
        expire is kept if no one took it meanwhile)."""
        kept: set[str] = set()
        for chunk in _chunks(arns):
            statement = (
                sa.update(leases)
                .where(leases.c.owner == owner, leases.c.resource_arn.in_(chunk))
                .values(expires_at=self._now() + seconds)
                .returning(leases.c.resource_arn)
            )
            with self._db.write() as connection:
                kept.update(connection.execute(statement).scalars())
        return kept

    def release(self, arn: str, owner: str) -> None:
        """Lets go of `owner`'s lease on `arn` (nothing if another owner holds it)."""
        with self._db.write() as connection:
            connection.execute(
                sa.delete(leases).where(leases.c.resource_arn == arn, leases.c.owner == owner)
            )

    def release_all(self, owner: str) -> None:
        with self._db.write() as connection:
            connection.execute(sa.delete(leases).where(leases.c.owner == owner))

    def live(self, arns: Iterable[str], *, other_than: str | None = None) -> set[str]:
        """Which of `arns` some owner (other than `other_than`, if given) holds unexpired."""
        found: set[str] = set()
        for chunk in _chunks(arns):
            statement = sa.select(leases.c.resource_arn).where(
                leases.c.resource_arn.in_(chunk), leases.c.expires_at >= self._now()
            )
            if other_than is not None:
                statement = statement.where(leases.c.owner != other_than)
            with self._db.read() as connection:
                found.update(connection.execute(statement).scalars())
        return found

    def get(self, arn: str) -> Lease | None:
        """The lease on `arn`, expired or not; None when there is none."""
        statement = sa.select(leases.c.owner, leases.c.expires_at - self._now()).where(
            leases.c.resource_arn == arn
        )
        with self._db.read() as connection:
            row = connection.execute(statement).first()
        return None if row is None else Lease(arn, row[0], float(row[1]))


def _chunks(arns: Iterable[str]) -> Iterable[Sequence[str]]:
    items = list(dict.fromkeys(arns))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
