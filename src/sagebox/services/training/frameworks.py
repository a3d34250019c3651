"""SageMaker's framework images, and whether this machine can stand in for one.

A framework container (scikit-learn, XGBoost, PyTorch, TensorFlow, Hugging Face) runs
the user's own script through the sagemaker-training toolkit. sagebox runs that script
with its own Python instead, so the framework library must be installed locally. The
image repository (last path segment, before ``:tag`` or ``@digest``) names the
framework, whatever the registry host.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass

from sagebox.algorithms.registry import split_image


@dataclass(frozen=True)
class Framework:
    """One framework image family: what it runs scripts with, and how to install that."""

    repository: str
    name: str
    """The framework's name as users know it, for messages (``PyTorch``)."""
    modules: tuple[str, ...]
    """Modules that must import for a script in this image to run."""
    packages: tuple[str, ...]
    """The pip packages providing `modules`, in the same order."""
    pin_version: bool = True
    """Whether the install hint pins the first package to the image tag's version."""
    versioned_repository: bool = False
    """The repository name goes on with a version (sagemaker-base-python-310)."""

    def serves(self, repository: str) -> bool:
        if self.versioned_repository:
            return repository == self.repository or repository.startswith(self.repository + "-")
        return repository == self.repository


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("sagemaker-scikit-learn", "scikit-learn", ("sklearn",), ("scikit-learn",)),
    Framework("sagemaker-xgboost", "XGBoost", ("xgboost",), ("xgboost",)),
    Framework("pytorch-training", "PyTorch", ("torch",), ("torch",)),
    Framework("tensorflow-training", "TensorFlow", ("tensorflow",), ("tensorflow",), pin_version=False),
    Framework(
        "huggingface-pytorch-training",
        "PyTorch and Hugging Face Transformers",
        ("torch", "transformers"),
        ("torch", "transformers"),
    ),
    # The SDK's @remote / @step functions run in SageMaker's base Python image; here, in
    # this machine's Python, which has the SDK the function's driver needs.
    Framework("sagemaker-base-python", "Python", (), (), pin_version=False, versioned_repository=True),
)

_VERSION = re.compile(r"\d+(?:\.\d+)*")


def image_repository(training_image: str) -> tuple[str, str | None]:
    """(repository, tag) of an image URI, the repository lower-cased; tag None when absent."""
    return split_image(training_image)


def framework_for_image(training_image: str | None) -> Framework | None:
    """The framework an image belongs to, or None for any other image."""
    if not training_image:
        return None
    repository = image_repository(training_image)[0]
    return next((f for f in FRAMEWORKS if f.serves(repository)), None)


def framework_repositories() -> str:
    return ", ".join(f"'{f.repository}'" for f in FRAMEWORKS)


def install_hint(framework: Framework, training_image: str) -> str:
    """The pip command installing what the image provides, pinned to its tag where that is exact."""
    packages = list(framework.packages)
    tag = image_repository(training_image)[1] or ""
    version = _VERSION.match(tag)
    if framework.pin_version and version:
        number = version.group(0)
        # Three-part tags (pytorch-training:2.1.0-cpu-py310) name an exact release;
        # two-part ones (sagemaker-scikit-learn:1.2-1) a release line.
        packages[0] += f"=={number}" if number.count(".") >= 2 else f"=={number}.*"
    return "pip install " + " ".join(packages)


def missing_modules(framework: Framework, python: str) -> list[str]:
    """The framework modules that `python` cannot import (checked without importing them)."""
    if python == sys.executable:
        return [m for m in framework.modules if importlib.util.find_spec(m) is None]
    probe = (
        "import importlib.util, sys; "
        "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
    )
    result = subprocess.run(
        [python, "-c", probe, *framework.modules], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        return list(framework.modules)
    return result.stdout.split()


def missing_framework_reason(framework: Framework, training_image: str, python: str) -> str | None:
    """The FailureReason for a job whose framework is not installed, or None when it is."""
    missing = missing_modules(framework, python)
    if not missing:
        return None
    return (
        f"ClientError: the {framework.repository} image runs scripts with {framework.name}, which is "
        "not installed in this sagebox environment; "
        f"install it with: {install_hint(framework, training_image)}"
    )
