"""Every sagebox setting in one typed object, from flags and SAGEBOX_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


AUTH_MODES = ("off", "sigv4")


class SettingsError(ValueError):
    """A setting's value is not valid; the message names the setting and what it accepts."""


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated variable as a tuple of its non-empty, stripped items."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Where sagebox keeps its state and how it runs jobs.

    home: the folder holding the SQLite database, the object store and job folders.
    database_url: SQLAlchemy URL of the metadata store; SQLite under home by default.
    objects_url: "file://<folder>" (default: <home>/objects) or "s3://" for an
        S3-compatible service (endpoint from SAGEBOX_S3_ENDPOINT_URL).
    executor: where jobs and model servers run: "local" processes (the default).
    auth: "off" (any credentials are accepted, as LocalStack does) or "sigv4" (every
        request must be signed with an access key kept in the metadata store).
    allowed_hosts: Host names served besides the loopback names and the bound address.
    cors_origins: browser origins (scheme://host[:port]) allowed to send state-changing
        requests; every other foreign Origin is refused.
    insecure: allow listening on a non-loopback address with auth off.
    """

    home: Path = field(default_factory=lambda: Path(".sagebox").resolve())
    host: str = "127.0.0.1"
    port: int = 8080
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    database_url: str | None = None
    objects_url: str | None = None
    s3_endpoint_url: str | None = None
    executor: str | None = None
    max_concurrent_jobs: int = 2
    stop_grace_seconds: float = 10.0
    health_check_seconds: float = 1.0
    serverless_idle_seconds: float = 60.0
    capture_flush_seconds: float = 5.0
    # CreateEndpoint answers once the endpoint is InService or after this long, whichever
    # comes first, so that a client's first status check usually finds it serving.
    endpoint_ready_wait_seconds: float = 5.0
    auth: str = "off"
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    insecure: bool = False
    # CloudWatch: how often endpoints publish their aggregated invocation metrics, and how
    # long metric data are kept (CloudWatch keeps one-minute data 15 days).
    metrics_flush_seconds: float = 60.0
    metrics_retention_days: float = 15.0
    # Several servers on one PostgreSQL store: how long a server's lease on a resource's
    # background work lasts unrenewed (another server takes over within about this long
    # after the owner dies), and this server's name in the leases table (random if unset;
    # a fixed one lets a restarted server take its own leases back at once).
    lease_seconds: float = 15.0
    server_id: str | None = None

    def __post_init__(self) -> None:
        if not self.lease_seconds > 0:
            raise SettingsError(f"lease_seconds (SAGEBOX_LEASE_SECONDS) must be positive, got {self.lease_seconds}")
        if self.auth not in AUTH_MODES:
            raise SettingsError(
                f"auth (SAGEBOX_AUTH) must be one of {', '.join(AUTH_MODES)}, got {self.auth!r}"
            )

    @property
    def auth_required(self) -> bool:
        return self.auth == "sigv4"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from SAGEBOX_* variables; keyword overrides (flags) win."""
        env = os.environ
        settings = cls(
            home=Path(env.get("SAGEBOX_HOME", ".sagebox")).expanduser().resolve(),
            host=env.get("SAGEBOX_HOST", "127.0.0.1"),
            port=_env_int("SAGEBOX_PORT", 8080),
            region=env.get("SAGEBOX_REGION", DEFAULT_REGION),
            account_id=env.get("SAGEBOX_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            database_url=env.get("SAGEBOX_DATABASE_URL") or None,
            objects_url=env.get("SAGEBOX_OBJECTS_URL") or None,
            s3_endpoint_url=env.get("SAGEBOX_S3_ENDPOINT_URL") or None,
            executor=env.get("SAGEBOX_EXECUTOR") or None,
            max_concurrent_jobs=_env_int("SAGEBOX_MAX_CONCURRENT_JOBS", 2),
            stop_grace_seconds=float(env.get("SAGEBOX_STOP_GRACE_SECONDS", "10")),
            health_check_seconds=float(env.get("SAGEBOX_HEALTH_CHECK_SECONDS", "1")),
            serverless_idle_seconds=float(env.get("SAGEBOX_SERVERLESS_IDLE_SECONDS", "60")),
            capture_flush_seconds=float(env.get("SAGEBOX_CAPTURE_FLUSH_SECONDS", "5")),
            endpoint_ready_wait_seconds=float(env.get("SAGEBOX_ENDPOINT_READY_WAIT_SECONDS", "5")),
            auth=env.get("SAGEBOX_AUTH", "off").strip().lower() or "off",
            allowed_hosts=_env_list("SAGEBOX_ALLOWED_HOSTS"),
            cors_origins=_env_list("SAGEBOX_CORS_ORIGINS"),
            insecure=_env_flag("SAGEBOX_INSECURE"),
            metrics_flush_seconds=float(env.get("SAGEBOX_METRICS_FLUSH_SECONDS", "60")),
            metrics_retention_days=float(env.get("SAGEBOX_METRICS_RETENTION_DAYS", "15")),
            lease_seconds=float(env.get("SAGEBOX_LEASE_SECONDS", "15")),
            server_id=env.get("SAGEBOX_SERVER_ID") or None,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "home" in given:
            given["home"] = Path(str(given["home"])).expanduser().resolve()
        for name in ("allowed_hosts", "cors_origins"):
            if name in given:
                given[name] = tuple(given[name])  # type: ignore[arg-type]
        return replace(settings, **given)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'sagebox.db'}"

    @property
    def resolved_objects_url(self) -> str:
        return self.objects_url or f"file://{self.home / 'objects'}"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def venvs_dir(self) -> Path:
        """Virtual environments for requirements.txt files, cached by content."""
        return self.home / "venvs"

    @property
    def endpoint_url(self) -> str:
        """The URL a process on this machine reaches this server at (a job gets it as
        AWS_ENDPOINT_URL): the bound address, or loopback when bound to every address."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def arn(self, resource: str) -> str:
        """ARN of a SageMaker resource, e.g. arn('training-job/name')."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}"
