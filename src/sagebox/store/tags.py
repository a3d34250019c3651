"""Tags of any resource, keyed by the resource's ARN."""

from __future__ import annotations

import sqlalchemy as sa

from sagebox.store.database import Database
from sagebox.store.tables import tags


class TagRepository:
    """Add, list and remove ``{"Key": ..., "Value": ...}`` tags by ARN.

    Tags are listed in the order their keys were first added; overwriting the
    value of an existing key keeps its place.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, arn: str, new_tags: list[dict[str, str]]) -> None:
        wanted: dict[str, str] = {}
        for tag in new_tags:
            key, value = _key_value(tag)
            wanted[key] = value
        if not wanted:
            return
        with self._db.write() as connection:
            if self._db.dialect == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:arn, 0))"),
                    {"arn": arn},
                )
            existing = set(connection.scalars(sa.select(tags.c.key).where(tags.c.arn == arn)))
            last = connection.scalar(
                sa.select(sa.func.max(tags.c.position)).where(tags.c.arn == arn)
            )
            position = -1 if last is None else last
            for key, value in wanted.items():
                if key in existing:
                    connection.execute(
                        sa.update(tags)
                        .where(tags.c.arn == arn, tags.c.key == key)
                        .values(value=value)
                    )
                else:
                    position += 1
                    connection.execute(
                        sa.insert(tags).values(arn=arn, key=key, value=value, position=position)
                    )

    def list(self, arn: str) -> list[dict[str, str]]:
        statement = (
            sa.select(tags.c.key, tags.c.value)
            .where(tags.c.arn == arn)
            .order_by(tags.c.position.asc())
        )
        with self._db.read() as connection:
            return [{"Key": row.key, "Value": row.value} for row in connection.execute(statement)]

    def list_many(self, arns: list[str]) -> dict[str, list[dict[str, str]]]:
        """The tags of each of ``arns`` (one query for a page of records), in `list`'s order."""
        found: dict[str, list[dict[str, str]]] = {arn: [] for arn in arns}
        if not arns:
            return found
        statement = (
            sa.select(tags.c.arn, tags.c.key, tags.c.value)
            .where(tags.c.arn.in_(list(found)))
            .order_by(tags.c.arn, tags.c.position.asc())
        )
        with self._db.read() as connection:
            for row in connection.execute(statement):
                found[row.arn].append({"Key": row.key, "Value": row.value})
        return found

    def delete(self, arn: str, keys: list[str]) -> None:
        if not keys:
            return
        with self._db.write() as connection:
            connection.execute(sa.delete(tags).where(tags.c.arn == arn, tags.c.key.in_(keys)))

    def delete_all(self, arn: str) -> None:
        with self._db.write() as connection:
            connection.execute(sa.delete(tags).where(tags.c.arn == arn))


def _key_value(tag: dict[str, str]) -> tuple[str, str]:
    if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str):
        raise ValueError(f"a tag must be a dict with a string 'Key', got {tag!r}")
    value = tag.get("Value", "")
    if not isinstance(value, str):
        raise ValueError(f"tag {tag['Key']!r} has a non-string Value {value!r}")
    return tag["Key"], value
