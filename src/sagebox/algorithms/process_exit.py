"""Ending a job process once its work is done, without tearing the interpreter down."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn


def exit_at_once(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code`` straight away.

    A normal interpreter exit frees every module and object one by one; with numpy,
    scipy, pyarrow and xgboost loaded that takes about 0.2 s, which a training job
    would spend after its model is saved and before the platform can upload it. By
    the time this is called the job's files are written and closed and its worker
    thread has ended, so nothing is lost by skipping that clean-up.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe
            stream.flush()
    os._exit(code)
