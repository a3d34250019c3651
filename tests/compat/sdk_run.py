"""Runs a compatibility script in a fresh shell configured only by `sagebox env`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def run_script(
    script: str, server: Any, folder: Path, timeout: float = 300, python: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs tests/compat/`script` in `folder` after `eval "$(sagebox env ...)"`, capturing its output.

    `python` is the client's interpreter (another virtual environment's); this one's by default.
    """
    sagebox = Path(sys.executable).with_name("sagebox")
    command = (
        f'eval "$({sagebox} env --endpoint-url {server.endpoint_url} --home {folder})" && '
        f"{python or sys.executable} {HERE / script}"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    environment["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    return subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=timeout,
    )
