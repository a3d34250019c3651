"""Keyset paging of document queries: order by (sort key, name[, kind]), resume strictly after.

A page ends at a position, the last row's (sort key, name, kind); the next page
is the rows strictly after it in the same order. Rows inserted or deleted in
between therefore never make another row repeat or disappear. Rows without a
value at a document sort path (NULL key) come after all others in both
orders, and the position of such a row says so with a None key.

The kind is a tie-breaker only when several kinds are queried together, since
a name is unique within one kind only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from sagebox.store.errors import InvalidNextToken
from sagebox.store.paging import PositionValue
from sagebox.store.query_sql import SortKey
from sagebox.store.tables import resources

SORT_KEY_LABEL = "sort_key"


@dataclass(frozen=True)
class Keyset:
    key: SortKey
    with_kind: bool
    name_column: sa.ColumnElement[str] = resources.c.name
    """Where rows' names are read for ordering and paging (the document index has a copy)."""

    @property
    def length(self) -> int:
        return 3 if self.with_kind else 2

    @cached_property
    def selected(self) -> sa.Label[Any]:
        """The sort key as a result column, from which `position` reads it.

        ORDER BY names this column rather than repeating its expression, so a
        document sort key is computed once per row, not once more for sorting.
        """
        return self.key.expression.label(SORT_KEY_LABEL)

    def order_by(self) -> list[sa.ColumnElement[Any]]:
        keys = [] if self.key.is_name else [self._ordered(self.selected, self.key.nullable)]
        keys.append(self._ordered(self.name_column, nullable=False))
        if self.with_kind:
            keys.append(self._ordered(resources.c.kind, nullable=False))
        return keys

    def after(self, position: list[Any]) -> sa.ColumnElement[bool]:
        """Rows strictly past ``position`` in this order."""
        value, name = position[0], position[1]
        tie = self._beyond(self.name_column, name)
        if self.with_kind:
            tie = sa.or_(
                tie, sa.and_(self.name_column == name, self._beyond(resources.c.kind, position[2]))
            )
        if self.key.is_name:
            return tie
        key = self.key.expression
        if value is None:
            return sa.and_(key.is_(None), tie)
        later = [self._beyond(key, value), sa.and_(key == value, tie)]
        if self.key.nullable:
            later.append(key.is_(None))
        return sa.or_(*later)

    def position(self, row: sa.Row[Any]) -> list[PositionValue]:
        value = getattr(row, SORT_KEY_LABEL)
        if isinstance(value, datetime):
            value = value.isoformat()
        position: list[PositionValue] = [value, row.name]
        if self.with_kind:
            position.append(row.kind)
        return position

    def decode(self, position: list[Any], scope: str) -> list[Any]:
        """The token's position with each value checked and times parsed."""
        value, *identity = position
        if not all(isinstance(part, str) for part in identity):
            raise InvalidNextToken(scope, "the token is malformed")
        return [self._decode_value(value, scope), *identity]

    def _decode_value(self, value: Any, scope: str) -> Any:
        if value is None and self.key.nullable:
            return None
        value_type = self.key.value_type
        if value_type == "text" and isinstance(value, str):
            return value
        if value_type == "number" and _is_number(value):
            return value
        if value_type == "time" and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.utcoffset() is not None:
                return moment
        raise InvalidNextToken(scope, "the token is malformed")

    def _ordered(self, column: sa.ColumnElement[Any], nullable: bool) -> sa.ColumnElement[Any]:
        ordered = column.desc() if self.key.descending else column.asc()
        return ordered.nulls_last() if nullable else ordered

    def _beyond(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        return column < value if self.key.descending else column > value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)
