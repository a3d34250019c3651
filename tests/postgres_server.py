"""A PostgreSQL server for contract tests: an external one, or a throwaway cluster.

``start_server()`` returns a ``PostgresServer`` for the server named by
``SAGEBOX_TEST_POSTGRES_URL`` when that is set, and otherwise initialises and
starts a private cluster in a temporary folder (as the ``postgres`` system user
when running as root, since PostgreSQL refuses to run as root). When neither is
possible it raises ``PostgresUnavailable`` whose message is the skip reason.
Suites make databases with ``create_database()`` and can empty one between
tests with ``empty_database()``, which is much faster than creating another.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

URL_VARIABLE = "SAGEBOX_TEST_POSTGRES_URL"
SKIP_PREFIX = "PostgreSQL tests skipped: "
_START_TIMEOUT_S = 30


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be used; the message says exactly why."""

    def __init__(self, reason: str) -> None:
        super().__init__(SKIP_PREFIX + reason)


class PostgresServer:
    """A reachable server plus the means to make and drop per-test databases."""

    def __init__(self, admin_url: str, cluster: _Cluster | None = None) -> None:
        self.admin_url = make_url(admin_url).set(drivername="postgresql+psycopg")
        self._cluster = cluster
        self._admin = sa.create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )

    def ping(self) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"sagebox_test_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def empty_database(self, url: str) -> None:
        """Remove every table and sequence from a database made by create_database()."""
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        finally:
            engine.dispose()

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._admin.dispose()
        if self._cluster is not None:
            self._cluster.stop()


def start_server() -> PostgresServer:
    external = os.environ.get(URL_VARIABLE)
    if external:
        server = PostgresServer(external)
        try:
            server.ping()
        except sa.exc.OperationalError as error:
            server.stop()
            raise PostgresUnavailable(f"cannot connect to {URL_VARIABLE}: {error}") from error
        return server
    cluster = _Cluster.start()
    try:
        return PostgresServer(cluster.url, cluster)
    except Exception:
        cluster.stop()
        raise


class _Cluster:
    """A private cluster listening on 127.0.0.1 only, removed when stopped."""

    def __init__(self, bin_dir: Path, base: Path, run_as: Sequence[str]) -> None:
        self.bin_dir = bin_dir
        self.base = base
        self.data = base / "data"
        self.run_as = list(run_as)
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls) -> _Cluster:
        bin_dir = _find_bin_dir()
        run_as, owner = _run_as()
        base = Path(tempfile.mkdtemp(prefix="sagebox-pg-"))
        if owner is not None:
            os.chown(base, owner.pw_uid, owner.pw_gid)
        cluster = cls(bin_dir, base, run_as)
        try:
            cluster._init()
            cluster._launch()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def _init(self) -> None:
        result = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {_tail(result.stdout + result.stderr)}")

    def _launch(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.base / "server.log"
        result = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options,
            "-w", "-t", str(_START_TIMEOUT_S), "start",
        )  # fmt: skip
        if result.returncode != 0:
            details = log.read_text(errors="replace") if log.exists() else result.stderr
            raise PostgresUnavailable(f"pg_ctl start failed: {_tail(details)}")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*self.run_as, str(self.bin_dir / tool), *args]
        return subprocess.run(
            command, cwd=self.base, capture_output=True, text=True, timeout=60, check=False
        )


def _find_bin_dir() -> Path:
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(
        (Path(found) for found in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda path: _version(path.parent.name),
        reverse=True,
    )
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailable(
        "initdb and pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin "
        f"(install the postgresql package or set {URL_VARIABLE})"
    )


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError as error:
        raise PostgresUnavailable(
            "running as root and there is no 'postgres' system user to run the server as"
        ) from error
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root and runuser is not available")
    return [runuser, "-u", "postgres", "--"], owner


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])
