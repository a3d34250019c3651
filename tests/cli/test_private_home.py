"""The home folder and what sagebox writes in it are private (folders 0700, files 0600),
and `serve` refuses a non-loopback address without --auth unless --insecure is given."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from sagebox.cli.serve import binding_refusal, executor_refusal
from sagebox.config import Settings
from tests.edge.auth_server import SAGEBOX, clean_environment, client, create_key, start_server


def _loose_modes(home: Path) -> list[str]:
    """Every path under `home` (itself included) that its group or others may use."""
    loose = []
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not path.is_symlink() and mode & 0o077:
            loose.append(f"{path.relative_to(home.parent)} {oct(mode)}")
    return loose


def test_everything_the_server_writes_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)  # as an earlier version, or a shared parent, left it
    server = start_server(home)
    try:
        s3 = client("s3", server.endpoint_url, ("test", "test"))
        s3.create_bucket(Bucket="private-bucket")
        s3.put_object(Bucket="private-bucket", Key="a/b/c.csv", Body=b"1,2\n")
        upload = s3.create_multipart_upload(Bucket="private-bucket", Key="big")["UploadId"]
        s3.upload_part(Bucket="private-bucket", Key="big", UploadId=upload, PartNumber=1, Body=b"x")
        logs = client("logs", server.endpoint_url, ("test", "test"))
        logs.describe_log_groups()
    finally:
        server.stop()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / "sagebox.db").exists()
    assert list((home / "objects").rglob("*")), "the object store wrote files"
    assert _loose_modes(home) == []


def test_keys_create_makes_a_private_home_and_database(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    create_key(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "sagebox.db").stat().st_mode) == 0o600
    assert _loose_modes(home) == []


def test_serve_refuses_a_public_address_without_auth(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SAGEBOX, "serve", "--host", "0.0.0.0", "--port", "0", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0 without --auth" in done.stderr
    assert "--insecure" in done.stderr
    assert "sagebox listening" not in done.stdout


def test_binding_rules() -> None:
    assert binding_refusal(Settings(host="127.0.0.1")) is None
    assert binding_refusal(Settings(host="::1")) is None
    assert binding_refusal(Settings(host="localhost")) is None
    assert binding_refusal(Settings(host="0.0.0.0")) is not None
    assert binding_refusal(Settings(host="192.168.1.20")) is not None
    assert binding_refusal(Settings(host="0.0.0.0", auth="sigv4")) is None
    assert binding_refusal(Settings(host="0.0.0.0", insecure=True)) is None


def test_serve_refuses_an_executor_it_cannot_use(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SAGEBOX, "serve", "--port", "0", "--home", str(tmp_path), "--executor", "cluster://x"],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot use the executor 'cluster://x'" in done.stderr
    assert "use 'local' (processes on this machine) or 'ray://HOST:PORT'" in done.stderr
    assert "sagebox listening" not in done.stdout
    assert "resource_sale" in (
        executor_refusal(Settings(executor="ray://auto?resource_sale=1")) or ""
    )
    assert executor_refusal(Settings()) is None
