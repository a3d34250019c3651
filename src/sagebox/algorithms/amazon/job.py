"""Running an Amazon algorithm's training as a job process.

``run_training(train)`` is each algorithm's ``__main__``: it loads the job folder,
runs ``train(env)`` on a worker thread (so SIGTERM ends the job at once, even inside
a long numpy call), and turns what goes wrong into ``output/failure`` and an exit
status the platform understands:

- a client error (bad hyperparameter, bad data, bad channel) -> ``ClientError: ...``, exit 1
- anything else -> ``AlgorithmError: ...`` with the traceback in the log, exit 1
- SIGTERM (StopTrainingJob, MaxRuntimeInSeconds) -> exit 143
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType

from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.contract import ContractError, TrainingEnvironment, default_base_dir
from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.formats.errors import FormatError

EXIT_FAILED = 1
EXIT_TERMINATED = 128 + signal.SIGTERM
CLIENT_ERRORS = (TrainingError, HyperparameterError, FormatError, ContractError)

Train = Callable[[TrainingEnvironment], object]


def log(message: str) -> None:
    """An informational line on stderr (stdout carries the metric lines)."""
    print(message, file=sys.stderr, flush=True)


def is_first_host(env: TrainingEnvironment) -> bool:
    """Only the first host of a job saves the model."""
    return env.resource_config.current_host == env.resource_config.hosts[0]


def run(env: TrainingEnvironment, train: Train) -> int:
    """Train, turning failures into ``output/failure`` and an exit status."""
    try:
        train(env)
    except CLIENT_ERRORS as exc:
        message = f"ClientError: {str(exc).strip()}"
        env.write_failure(message)
        log(message)
        return EXIT_FAILED
    except MemoryError:
        message = "ClientError: the training data does not fit in memory; use a larger instance"
        env.write_failure(message)
        log(message)
        return EXIT_FAILED
    except Exception as exc:  # anything else is the algorithm's own fault
        traceback.print_exc()
        env.write_failure(f"AlgorithmError: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    return 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    log("Received SIGTERM; stopping training.")
    os._exit(EXIT_TERMINATED)


def run_training(train: Train) -> int:
    """The job's main: load ``$SAGEMAKER_BASE_DIR`` and run ``train`` (see the module doc)."""
    base = default_base_dir()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        env = TrainingEnvironment.load(base)
    except ContractError as exc:
        message = f"ClientError: {exc}"
        TrainingEnvironment(base_dir=base).write_failure(message)
        log(message)
        return EXIT_FAILED
    outcome: list[int] = []
    worker = threading.Thread(target=lambda: outcome.append(run(env, train)), name="train")
    worker.start()
    while worker.is_alive():
        worker.join(timeout=0.5)
    return outcome[0] if outcome else EXIT_FAILED
