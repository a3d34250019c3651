"""Models served by a framework container running the user's own ``inference.py``.

SageMaker's framework inference images (scikit-learn, XGBoost, PyTorch, TensorFlow,
Hugging Face) load the user's script named by the container Environment
``SAGEMAKER_PROGRAM`` from ``SAGEMAKER_SUBMIT_DIRECTORY``: either ``/opt/ml/model/code``
(the SDK repacked the code into model.tar.gz under ``code/``) or an
``s3://.../sourcedir.tar.gz``. Here that code is staged next to the unpacked model and
the ``script`` model server handler is told where, through ``SAGEBOX_CODE_DIR``.

A ``requirements.txt`` in that code is installed, as the inference toolkit does when
its container starts, into a virtual environment cached by the file's content (the
same cache script-mode training uses); the model server then runs with that
environment's Python, named by ``SAGEBOX_SERVING_PYTHON``.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.runtime.model_server import PYTHON_VARIABLE
from sagebox.runtime.venv_cache import RequirementsInstallError, VirtualEnvCache
from sagebox.services.hosting.fleet import prepare_model
from sagebox.services.training.frameworks import image_repository

SCRIPT_HANDLER = "sagebox.serving.handlers.script"  # the script handler module
PROGRAM_VARIABLE = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY_VARIABLE = "SAGEMAKER_SUBMIT_DIRECTORY"
CODE_DIR_VARIABLE = "SAGEBOX_CODE_DIR"
FRAMEWORK_VARIABLE = "SAGEBOX_SERVING_FRAMEWORK"
CONTAINER_MODEL_DIR = "/opt/ml/model"
REQUIREMENTS_FILE = "requirements.txt"
INSTALL_TIMEOUT_SECONDS = 1800

SERVING_FRAMEWORKS: dict[str, str] = {
    "sagemaker-scikit-learn": "sklearn",
    "sagemaker-xgboost": "xgboost",
    "pytorch-inference": "pytorch",
    "pytorch-training": "pytorch",
    "tensorflow-inference": "tensorflow",
    "tensorflow-training": "tensorflow",
    "huggingface-pytorch-inference": "huggingface",
    "huggingface-pytorch-training": "huggingface",
}
"""Image repository -> the framework whose serving defaults the ``script`` handler uses."""


class ScriptCodeError(Exception):
    """The model's inference code cannot be staged; the message says why."""


def serving_framework(container: dict[str, Any]) -> str | None:
    """The framework of a container's image when it is a framework inference image, else None."""
    image = container.get("Image") or ""
    return SERVING_FRAMEWORKS.get(image_repository(image)[0]) if image else None


def program_of(container: dict[str, Any]) -> str | None:
    return (container.get("Environment") or {}).get(PROGRAM_VARIABLE) or None


def stage_script_code(
    objects: ObjectStore, container: dict[str, Any], base: Path, venvs: VirtualEnvCache | None = None
) -> dict[str, str]:
    """Makes a script model's code available under ``base`` (whose ``model/`` is already unpacked).

    Returns the environment variables telling the model server where the code is, which
    framework's defaults apply and, when the code has a requirements.txt and `venvs` is
    given, which Python to run; an empty dict for any other model. Raises
    ``ScriptCodeError``.
    """
    framework, program = serving_framework(container), program_of(container)
    if framework is None or program is None:
        return {}
    environment = container.get("Environment") or {}
    submit = str(environment.get(SUBMIT_DIRECTORY_VARIABLE) or f"{CONTAINER_MODEL_DIR}/code")
    if submit.startswith("s3://"):
        code = base / "code"
        _download_code(objects, submit, code)
    elif submit.rstrip("/") == CONTAINER_MODEL_DIR or submit.startswith(CONTAINER_MODEL_DIR + "/"):
        code = base / "model" / submit[len(CONTAINER_MODEL_DIR) :].strip("/")
    elif submit.startswith("file://") or submit.startswith("/"):
        code = Path(submit.removeprefix("file://"))
    else:
        raise ScriptCodeError(
            f"Environment {SUBMIT_DIRECTORY_VARIABLE} '{submit}' is neither an s3:// URI nor a folder "
            f"inside {CONTAINER_MODEL_DIR}."
        )
    if not (code / program).is_file():
        present = sorted(p.relative_to(code).as_posix() for p in code.rglob("*") if p.is_file()) if code.is_dir() else []
        raise ScriptCodeError(
            f"the inference script '{program}' (Environment {PROGRAM_VARIABLE}) is not in the code "
            f"directory {submit}; it holds: {', '.join(present[:20]) or 'no files'}."
        )
    staged = {CODE_DIR_VARIABLE: str(code), FRAMEWORK_VARIABLE: framework}
    requirements = code / REQUIREMENTS_FILE
    if venvs is not None and requirements.is_file():
        staged[PYTHON_VARIABLE] = str(_python_with(requirements, venvs))
    return staged


def _python_with(requirements: Path, venvs: VirtualEnvCache) -> Path:
    """The interpreter of the cached environment for `requirements`, installing it if new."""
    try:
        return venvs.python_for(requirements, _run_quietly)
    except RequirementsInstallError as exc:
        raise ScriptCodeError(f"pip could not install the inference code's {REQUIREMENTS_FILE}: {exc}") from exc


def _run_quietly(argv: list[str]) -> tuple[int, list[str]]:
    """Runs an install command, returning its exit code and output lines."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
    except subprocess.TimeoutExpired:
        return 1, [f"ERROR: the install did not finish within {INSTALL_TIMEOUT_SECONDS} seconds"]
    return done.returncode, (done.stdout + done.stderr).splitlines()


def _download_code(objects: ObjectStore, uri: str, destination: Path) -> None:
    try:
        prepare_model(objects, uri, destination)
    except ObjectStoreError as exc:
        raise ScriptCodeError(
            f"could not download the inference code {uri} (Environment {SUBMIT_DIRECTORY_VARIABLE}): "
            f"{exc.code}: {exc.message}"
        ) from exc
    except (OSError, ValueError, tarfile.TarError) as exc:
        raise ScriptCodeError(f"the inference code {uri} is not a usable tar.gz archive: {exc}") from exc
