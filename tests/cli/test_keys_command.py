"""`sagebox keys create | list | delete` on the store of a home folder."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.edge.auth_server import SAGEBOX, clean_environment, create_key, keys_command


def test_create_prints_an_akia_key_pair_once(tmp_path: Path) -> None:
    done = keys_command(tmp_path, "create", "--user", "dana")
    assert done.returncode == 0, done.stderr
    fields = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", fields["AccessKeyId"])
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", fields["SecretAccessKey"])
    assert fields["UserName"] == "dana"
    assert "not shown again" in done.stderr


def test_list_shows_keys_but_never_secrets(tmp_path: Path) -> None:
    first, second = create_key(tmp_path, "erin"), create_key(tmp_path, "frank")
    done = keys_command(tmp_path, "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["AccessKeyId", "UserName", "Status", "CreateDate"]
    assert [line.split()[:3] for line in lines[1:]] == [
        [first.access_key_id, "erin", "Active"],
        [second.access_key_id, "frank", "Active"],
    ]
    assert first.secret_access_key not in done.stdout + done.stderr
    assert second.secret_access_key not in done.stdout + done.stderr


def test_delete_removes_a_key_and_says_when_there_is_none(tmp_path: Path) -> None:
    key = create_key(tmp_path)
    assert keys_command(tmp_path, "delete", key.access_key_id).returncode == 0
    assert key.access_key_id not in keys_command(tmp_path, "list").stdout
    again = keys_command(tmp_path, "delete", key.access_key_id)
    assert again.returncode == 1
    assert f"there is no access key '{key.access_key_id}'" in again.stderr


def test_an_invalid_user_name_is_refused(tmp_path: Path) -> None:
    done = keys_command(tmp_path, "create", "--user", "no spaces/here")
    assert done.returncode == 1
    assert "user name 'no spaces/here' is not valid" in done.stderr


def test_home_may_follow_the_subcommand(tmp_path: Path) -> None:
    key = create_key(tmp_path)
    done = subprocess.run(
        [*SAGEBOX, "keys", "list", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert key.access_key_id in done.stdout
