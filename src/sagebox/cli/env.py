"""`sagebox env`: the shell lines that point AWS clients and the SageMaker SDK at a server.

Use it as ``eval "$(sagebox env)"``. It checks that a server answers at the address,
creates the SDK's default bucket there, and writes a SageMaker Python SDK
configuration file (``SAGEMAKER_USER_CONFIG_OVERRIDE``) naming that bucket and
opting out of telemetry, so that ``Session()`` never asks AWS's real STS for an
account id to build a bucket name and never calls home.

Credentials: the key given with --access-key-id / --secret-access-key; otherwise dummy
ones, unless the server refuses them (it was started with --auth): then the newest
active key of --user (default "sagebox") in the home's store, created if that user has
none, the way `sagebox keys create` would.
"""

from __future__ import annotations

import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path

from sagebox.cli.private_home import make_home_private, sqlite_path
from sagebox.config import Settings

DEFAULT_BUCKET = "sagebox-default"
CONFIG_FILE = "sagemaker-sdk-config.yaml"
ACCESS_KEY = "sagebox"
SECRET_KEY = "sagebox-secret"


def sdk_config(bucket: str) -> str:
    """The SageMaker Python SDK configuration (its ``config.yaml`` schema)."""
    return (
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  PythonSDK:\n"
        "    Modules:\n"
        "      TelemetryOptOut: true\n"
        "      Session:\n"
        f"        DefaultS3Bucket: {bucket}\n"
    )


# Errors that say the server refused the credentials (it requires signed requests).
REFUSED_CREDENTIALS = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "MissingAuthenticationToken",
    "IncompleteSignature",
}
Credentials = tuple[str, str]


class EnvError(Exception):
    """`sagebox env` cannot go on; the message says why and what to do."""


def export_lines(
    endpoint_url: str,
    region: str,
    config_path: Path,
    credentials: Credentials = (ACCESS_KEY, SECRET_KEY),
) -> list[str]:
    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": credentials[0],
        "AWS_SECRET_ACCESS_KEY": credentials[1],
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config_path),
    }
    lines = ["unset AWS_PROFILE AWS_SESSION_TOKEN"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    return lines


def _answers(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/_sagebox/health", timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _client(service: str, endpoint_url: str, region: str, credentials: Credentials):  # noqa: ANN202
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        aws_session_token=None,
        config=Config(retries={"max_attempts": 1}),
    )


def _refusal(endpoint_url: str, region: str, credentials: Credentials) -> str | None:
    """The server's message when it refuses these credentials, else None."""
    from botocore.exceptions import ClientError

    try:
        _client("sts", endpoint_url, region, credentials).get_caller_identity()
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") in REFUSED_CREDENTIALS:
            return f"{error.get('Code')}: {error.get('Message')}"
        raise
    return None


def _stored_key(settings: Settings, user: str) -> Credentials:
    """The newest active key of `user` in the home's store, created if it has none."""
    from sagebox.services.access_keys import AccessKeyService
    from sagebox.store import MetadataStore

    database = sqlite_path(settings)
    if database is not None and not database.exists():
        raise EnvError(
            f"the server requires signed requests, and there is no sagebox store at {database} "
            "to take a key from: pass the server's --home, or --access-key-id and "
            "--secret-access-key"
        )
    make_home_private(settings)
    store = MetadataStore(settings.resolved_database_url)
    try:
        keys = AccessKeyService(store, settings.account_id)
        key = keys.newest_active(user)
        if key is None:
            key = keys.create(user)
            print(
                f"# sagebox env: created access key {key.access_key_id} for user {user}",
                file=sys.stderr,
            )
        else:
            print(
                f"# sagebox env: using access key {key.access_key_id} of user {user}",
                file=sys.stderr,
            )
        return key.access_key_id, key.secret_access_key
    finally:
        store.close()


def _credentials(
    settings: Settings, url: str, given: Credentials | None, user: str | None
) -> Credentials:
    if given is not None:
        refused = _refusal(url, settings.region, given)
        if refused:
            raise EnvError(f"the server at {url} refuses access key {given[0]}: {refused}")
        return given
    if _refusal(url, settings.region, (ACCESS_KEY, SECRET_KEY)) is None:
        return ACCESS_KEY, SECRET_KEY
    stored = _stored_key(settings, user or "sagebox")
    refused = _refusal(url, settings.region, stored)
    if refused:
        raise EnvError(
            f"the server at {url} refuses access key {stored[0]} from the store of {settings.home} "
            f"({refused}): is it serving another home? Pass its --home, or --access-key-id and "
            "--secret-access-key"
        )
    return stored


def _ensure_bucket(endpoint_url: str, region: str, bucket: str, credentials: Credentials) -> None:
    from botocore.exceptions import ClientError

    s3 = _client("s3", endpoint_url, region, credentials)
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def run_env(
    settings: Settings,
    endpoint_url: str | None,
    bucket: str,
    given: Credentials | None = None,
    user: str | None = None,
) -> int:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = (endpoint_url or f"http://{host}:{settings.port}").rstrip("/")
    if not _answers(url):
        print(
            f"sagebox env: no sagebox server answers at {url}; start one with `sagebox serve` "
            "(or pass --endpoint-url / --port)",
            file=sys.stderr,
        )
        return 1
    try:
        credentials = _credentials(settings, url, given, user)
    except EnvError as exc:
        print(f"sagebox env: {exc}", file=sys.stderr)
        return 1
    _ensure_bucket(url, settings.region, bucket, credentials)
    make_home_private(settings)
    config_path = (settings.home / CONFIG_FILE).resolve()
    temporary = config_path.with_name(f".{CONFIG_FILE}.tmp")
    temporary.write_text(sdk_config(bucket), encoding="utf-8")
    temporary.replace(config_path)
    print("\n".join(export_lines(url, settings.region, config_path, credentials)))
    return 0
