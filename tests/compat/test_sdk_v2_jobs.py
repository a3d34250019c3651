"""Processing and batch transform jobs through the SageMaker Python SDK v2, unmodified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.compat.sdk_run import run_script

pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")

SCRIPT = ["python3", "/opt/ml/processing/input/code/preprocess.py"]
RUNPROC = ["/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"]


def _lines(output: str, tag: str) -> list[list[str]]:
    """The words after `tag` on each line the script printed with it."""
    # the SDK's wait loops print progress marks ("." and "!") without a newline
    lines = (line.lstrip(".!") for line in output.splitlines())
    return [line.split()[1:] for line in lines if line.startswith(f"{tag} ")]


def _outputs(lines: list[list[str]]) -> list[list[str]]:
    return [line[1:] for line in lines if line[0] == "output"]


def test_sklearn_script_and_framework_processors(sagebox_server: Any, tmp_path: Path) -> None:
    done = run_script("sdk_processing.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    # SKLearnProcessor.run(logs=True) streams the job's own log; the others ran with logs=False
    assert "Received arguments {'train_test_split_ratio': 0.2}" in output
    assert "Read 100 rows from 1 file(s)" in output
    assert "Received arguments {'train_test_split_ratio': 0.5}" not in output
    sklearn = _lines(done.stdout, "sklearn")
    assert ["status", "Completed"] in sklearn
    assert ["entrypoint", *SCRIPT] in sklearn
    assert ["arguments", "--train-test-split-ratio", "0.2"] in sklearn
    assert ["inputs", "input-1", "code"] in sklearn
    assert _outputs(sklearn) == [
        ["train", "/train.csv", "80", "5"],
        ["test", "/test.csv", "20", "5"],
    ]
    script = _lines(done.stdout, "script")
    assert ["status", "Completed"] in script
    assert ["entrypoint", *SCRIPT] in script
    assert _outputs(script) == [["train", "/train.csv", "50", "5"]]
    # FrameworkProcessor's runproc.sh unpacks the source folder and runs the script in it
    framework = _lines(done.stdout, "framework")
    assert ["status", "Completed"] in framework
    assert ["entrypoint", *RUNPROC] in framework
    assert ["inputs", "input-1", "code", "entrypoint"] in framework
    assert _outputs(framework) == [["test", "/test.csv", "25", "5"]]


def test_transformer_joins_ids_to_predictions_with_filters(
    sagebox_server: Any, tmp_path: Path
) -> None:
    done = run_script("sdk_transform.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    joined = [line[0].split(",") for line in _lines(done.stdout, "joined")]
    assert [row[0] for row in joined] == [str(i) for i in range(1000, 1142)]  # all, in order
    assert all(len(row) == 2 and 25 < float(row[1]) < 350 for row in joined)
    plain = [line[0] for line in _lines(done.stdout, "plain")]
    assert len(plain) == 10
    assert all("," not in value and 25 < float(value) < 350 for value in plain)
    assert float(joined[0][1]) == pytest.approx(float(plain[0]))  # the same record and model
    assert "sagebox model server ready" in done.stdout + done.stderr  # wait() streamed the log
