"""Resolving training images and algorithm names to built-in algorithms."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sagebox.algorithms import registry
from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.registry import image_version, resolve


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "1.7-1"),
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5", "3.0-5"),
        ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "1"),
        ("localhost:5000/sagemaker-xgboost:1.5-1", "1.5-1"),
        ("registry.example.com/team/sagemaker-xgboost@sha256:abc123", None),
        ("sagemaker-xgboost", None),
    ],
)
def test_xgboost_images_resolve(image: str, version: str | None) -> None:
    spec = resolve(training_image=image)
    assert spec is not None and spec.name == "xgboost"
    assert image_version(image) == version


@pytest.mark.parametrize(
    "image",
    [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-xgboost-trainer:latest",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310",
        "localhost:5000/custom:1",
        "",
    ],
)
def test_unknown_images_are_custom(image: str) -> None:
    assert resolve(training_image=image) is None


@pytest.mark.parametrize(
    "name",
    [
        "xgboost",
        "sagemaker-xgboost",
        "XGBoost",
        "arn:aws:sagemaker:us-east-1:123456789012:algorithm/xgboost",
    ],
)
def test_algorithm_names_resolve(name: str) -> None:
    spec = resolve(algorithm_name=name)
    assert spec is not None and spec.name == "xgboost"


def test_unknown_algorithm_name() -> None:
    assert resolve(algorithm_name="arn:aws:sagemaker:us-east-1:123456789012:algorithm/mine") is None
    assert resolve() is None


def test_xgboost_spec() -> None:
    spec = registry.XGBOOST
    assert spec.entry_module == "sagebox.algorithms.xgboost"
    assert spec.channels == ("train", "validation") and spec.required_channels == ("train",)
    assert {"text/csv", "text/libsvm", "text/x-libsvm"} <= set(spec.content_types)
    assert spec.default_content_type == "text/libsvm"
    assert spec.validate_hyperparameters({"num_round": "3"})["num_round"] == 3
    with pytest.raises(HyperparameterError):
        spec.validate_hyperparameters({"num_round": "0"})


def test_metric_definitions_are_sagemakers() -> None:
    definitions = {d["Name"]: d["Regex"] for d in registry.XGBOOST.metric_definitions}
    assert definitions["validation:rmse"] == (
        ".*\\[[0-9]+\\].*#011validation-rmse:([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"
    )
    for metric in (
        "rmse",
        "mae",
        "logloss",
        "error",
        "merror",
        "mlogloss",
        "auc",
        "aucpr",
        "ndcg",
        "map",
        "mse",
        "f1",
        "accuracy",
        "r2",
    ):
        assert f"train:{metric}" in definitions and f"validation:{metric}" in definitions


def test_metric_regexes_pick_the_right_metric() -> None:
    definitions = {d["Name"]: d["Regex"] for d in registry.XGBOOST.metric_definitions}
    line = "[7]#011train-error:0.1#011train-merror:0.2#011validation-error:3.5e-05#011validation-merror:0.4"
    assert re.match(definitions["validation:error"], line).group(1) == "3.5e-05"  # type: ignore[union-attr]
    assert re.match(definitions["validation:merror"], line).group(1) == "0.4"  # type: ignore[union-attr]
    assert re.match(definitions["train:error"], line).group(1) == "0.1"  # type: ignore[union-attr]
    assert re.match(definitions["validation:f1"], line) is None


def test_the_registry_is_cheap_to_import() -> None:
    code = (
        "import sys, sagebox.algorithms.registry\n"
        "heavy = [m for m in ('xgboost', 'sklearn', 'pyarrow', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
