"""The /opt/ml mapping on its own: rewriting command lines and shell scripts, the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sagebox.runtime.opt_ml import (
    BOOTSTRAP_DIR,
    is_shell_script,
    local_path,
    redirect_environment,
    rewrite_shell_scripts,
    rewrite_text,
)
from sagebox.services.training.entrypoint_setup import container_argv


def test_paths_anywhere_in_a_text_are_rewritten(tmp_path: Path) -> None:
    root = tmp_path / "job"
    text = (
        "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh && /opt/ml/input/data/sm_drivers/sm_train.sh; "
        'cd "/opt/ml"; --model-dir=/opt/ml/model x=/opt/ml/model:/opt/ml/code '
        "/opt/mlx /x/opt/ml s3://b/opt/ml/model /opt/ml.bak"
    )
    assert rewrite_text(text, root) == (
        f"chmod +x {root}/input/data/sm_drivers/sm_train.sh && {root}/input/data/sm_drivers/sm_train.sh; "
        f'cd "{root}"; --model-dir={root}/model x={root}/model:{root}/code '
        "/opt/mlx /x/opt/ml s3://b/opt/ml/model /opt/ml.bak"
    )
    assert local_path(root, "/opt/ml/input/") == root / "input"
    with pytest.raises(ValueError, match="is not a path under /opt/ml"):
        local_path(root, "/opt/mlx")


def test_container_argv_uses_the_servers_python(tmp_path: Path) -> None:
    root = tmp_path / "job"
    assert container_argv(
        ["python3", "/opt/ml/input/data/code/train.py", "--out", "/opt/ml/model"], root
    ) == [
        sys.executable,
        f"{root}/input/data/code/train.py",
        "--out",
        f"{root}/model",
    ]
    assert container_argv(["/opt/ml/input/data/code/run.sh"], root) == [
        f"{root}/input/data/code/run.sh"
    ]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("run.sh", b"echo hi", True),
        ("run", b"#!/bin/bash\necho", True),
        ("run", b"#!/usr/bin/env -S bash -e\n", True),
        ("run", b"#! /bin/sh\n", True),
        ("run", b"#!/usr/bin/env python3\n", False),
        ("train.py", b"import os", False),
        ("data.csv", b"1,2,3", False),
    ],
)
def test_shell_scripts_are_recognised(name: str, head: bytes, expected: bool) -> None:
    assert is_shell_script(Path(name), head) is expected


def test_shell_scripts_in_a_folder_are_rewritten_in_place(tmp_path: Path) -> None:
    root = tmp_path / "job"
    code = root / "input" / "data" / "code"
    code.mkdir(parents=True)
    script = code / "run.sh"
    script.write_text("cat /opt/ml/input/config/hyperparameters.json\n")
    script.chmod(0o755)
    (code / "train.py").write_text('open("/opt/ml/model/x", "w")\n')
    (code / "data.csv").write_text("/opt/ml/input\n")
    assert rewrite_shell_scripts(root / "input" / "data", root) == [script]
    assert script.read_text() == f"cat {root}/input/config/hyperparameters.json\n"
    assert script.stat().st_mode & 0o777 == 0o755
    assert (code / "train.py").read_text() == 'open("/opt/ml/model/x", "w")\n'
    assert (code / "data.csv").read_text() == "/opt/ml/input\n"
    assert rewrite_shell_scripts(root / "input" / "data", root) == []


def test_redirected_python_writes_opt_ml_paths_into_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "job"
    (root / "model").mkdir(parents=True)
    env = redirect_environment({"PATH": os.environ["PATH"], "PYTHONPATH": "/somewhere"}, root)
    assert env["PYTHONPATH"].split(os.pathsep) == [str(BOOTSTRAP_DIR), "/somewhere"]
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    code = "open('/opt/ml/model/m.txt', 'w').write('saved')"
    subprocess.run(["python3", "-c", code], env=env, check=True, timeout=60)
    assert (root / "model" / "m.txt").read_text() == "saved"
