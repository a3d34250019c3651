"""The Alembic migrations and store/tables.py describe one schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from sagebox.store import MetadataStore
from sagebox.store.database import MIGRATIONS, Database
from sagebox.store.tables import metadata

DOCUMENT = {"TrainingJobName": "old", "Metrics": [{"MetricName": "acc", "Max": 0.5}], "x": None}


@pytest.fixture
def database(store_url: str) -> Iterator[Database]:
    opened = Database(store_url)
    yield opened
    opened.close()


def differences(database: Database) -> list[Any]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def document_type(database: Database) -> str:
    columns = sa.inspect(database.engine).get_columns("resources")
    return next(str(column["type"]) for column in columns if column["name"] == "document")


def test_migrated_schema_matches_table_definitions(database: Database) -> None:
    database.upgrade()
    assert differences(database) == []


def summary(found: list[Any]) -> set[tuple[str, ...]]:
    """(what, table[, index or column]) of each difference, column-level ones unwrapped."""
    named: set[tuple[str, ...]] = set()
    for change in found:
        if isinstance(change, list):  # column-level: [("modify_type", schema, table, column, ...)]
            named.add((change[0][0], change[0][2], change[0][3]))
        elif change[0] == "add_table":
            named.add((change[0], change[1].name))
        else:
            named.add((change[0], change[1].table.name, change[1].name))
    return named


METRIC_POINTS = {
    ("add_table", "metric_points"),
    ("add_index", "metric_points", "ix_metric_points_series"),
}

DOCUMENT_INDEX = {
    ("add_table", "document_index_keys"),
    ("add_table", "document_numbers"),
    ("add_index", "document_numbers", "ix_document_numbers_walk"),
    ("add_index", "document_numbers", "ix_document_numbers_resource"),
    ("add_table", "document_texts"),
    ("add_index", "document_texts", "ix_document_texts_walk"),
    ("add_index", "document_texts", "ix_document_texts_resource"),
    ("add_table", "indexed_kinds"),
    ("add_index", "resources", "ix_resources_kind_creation_time_name"),
    ("add_index", "resources", "ix_resources_kind_last_modified_time_name"),
    ("remove_index", "resources", "ix_resources_kind_creation_time"),
}

LEASES = {("add_table", "leases"), ("add_index", "leases", "ix_leases_owner")}


def test_comparison_notices_a_schema_that_differs(database: Database) -> None:
    """The check above can fail: the first migration alone lacks jsonb on PostgreSQL."""
    database.upgrade("0001")
    jsonb = (
        {("modify_type", "resources", "document")} if database.dialect == "postgresql" else set()
    )
    assert summary(differences(database)) == jsonb | METRIC_POINTS | DOCUMENT_INDEX | LEASES


def test_each_later_migration_adds_exactly_its_tables(database: Database) -> None:
    database.upgrade("0002")
    assert summary(differences(database)) == METRIC_POINTS | DOCUMENT_INDEX | LEASES
    database.upgrade("0003")
    assert summary(differences(database)) == DOCUMENT_INDEX | LEASES
    database.upgrade("0004")
    assert summary(differences(database)) == LEASES
    database.upgrade("0005")
    assert differences(database) == []


def test_document_is_jsonb_on_postgresql_only(database: Database) -> None:
    database.upgrade()
    expected = "JSONB" if database.dialect == "postgresql" else "JSON"
    assert document_type(database) == expected


def test_upgrade_keeps_documents_written_before_it(database: Database, store_url: str) -> None:
    database.upgrade("0001")
    cast = "CAST(:document AS json)" if database.dialect == "postgresql" else ":document"
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    with database.write() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO resources (kind, name, arn, status, creation_time, "
                "last_modified_time, parent_arn, document) VALUES "
                f"('TrainingJob', 'old', 'arn:old', 'Completed', :moment, :moment, NULL, {cast})"
            ),
            {"moment": moment if database.dialect == "postgresql" else "2024-05-01 00:00:00.000000",
             "document": json.dumps(DOCUMENT)},
        )  # fmt: skip
    store = MetadataStore(store_url)
    try:
        record = store.resources("TrainingJob").get("old")
        assert record is not None
        assert record.document == DOCUMENT
        assert record.creation_time == moment
    finally:
        store.close()


def test_downgrade_restores_json_then_upgrade_again(database: Database) -> None:
    database.upgrade()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.write() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert document_type(database) == "JSON"
    database.upgrade()
    assert differences(database) == []
