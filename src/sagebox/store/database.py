"""Engine creation, per-backend connection setup, transactions and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from sagebox.store.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SUPPORTED_DIALECTS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536  # per connection, filled only as pages are read
# Key of the PostgreSQL advisory lock that serialises concurrent migrations.
_MIGRATION_LOCK_KEY = 0x5A6E_B0C5
# Key of the one that serialises building the document index (several servers starting at once).
INDEX_BUILD_LOCK_KEY = 0x5A6E_B0C6
# Execution option read by the SQLite "begin" hook: how to open a transaction.
_SQLITE_BEGIN = "sagebox_sqlite_begin"


class Database:
    """One engine for the whole process, handing out short transactions.

    ``read()`` opens a plain transaction; ``write()`` opens one that holds the
    write lock from its first statement (SQLite ``BEGIN IMMEDIATE``), so that
    read-modify-write sequences never dead-lock against each other. On
    PostgreSQL, row locks are taken explicitly with ``SELECT ... FOR UPDATE``.
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.dialect: str = parsed.get_backend_name()
        if self.dialect not in SUPPORTED_DIALECTS:
            raise StoreError(
                f"unsupported store URL {parsed.render_as_string(hide_password=True)!r}: "
                f"the backend must be one of {', '.join(SUPPORTED_DIALECTS)}"
            )
        self.engine = _sqlite_engine(parsed) if self.dialect == "sqlite" else _server_engine(parsed)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            with connection.begin():
                yield connection

    @contextmanager
    def exclusive(self, key: int) -> Iterator[None]:
        """Runs the block while no other process holds `key` (a PostgreSQL session advisory
        lock: several servers may share the database). SQLite: no lock is needed, a store
        file has one server."""
        if self.dialect != "postgresql":
            yield
            return
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to a migration, the newest by default (``alembic upgrade head``).

        An older ``revision`` lets tests build a database as an earlier release left it.
        """
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        with self.write() as connection:
            if self.dialect == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise StoreError(
            "an in-memory SQLite store cannot be shared between threads; "
            "give a file path, e.g. sqlite:////path/to/sagebox.db"
        )
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=10,
        max_overflow=20,
    )
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when and how BEGIN is sent.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Index walks and index maintenance touch B-tree pages all over a large store;
        # SQLite's default page cache (2 MB) would reread them from the OS on every write.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: sa.Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get(_SQLITE_BEGIN, "BEGIN"))


def _server_engine(url: sa.URL) -> sa.Engine:
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
