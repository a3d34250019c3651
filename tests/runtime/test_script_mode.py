"""The toolkit's contract as pure functions: decoding, arguments, framework images, install hints."""

from __future__ import annotations

from pathlib import Path

from sagebox.runtime.script_mode import (
    ScriptInvocation,
    command_line_arguments,
    decode_hyperparameters,
)
from sagebox.runtime.training_workspace import ChannelSpec, TrainingWorkspace
from sagebox.services.training.frameworks import framework_for_image, install_hint


def test_values_decode_as_json_with_the_raw_text_as_fallback() -> None:
    decoded = decode_hyperparameters({"a": "3", "b": '"text"', "c": "true", "d": "not json", "e": "[1, 2]"})
    assert decoded == {"a": 3, "b": "text", "c": True, "d": "not json", "e": [1, 2]}


def test_arguments_are_sorted_with_json_text_for_non_strings() -> None:
    arguments = command_line_arguments({"lr": 0.1, "x": 2, "name": "abc", "flag": False})
    assert arguments == ["--flag", "false", "--lr", "0.1", "--name", "abc", "-x", "2"]


def test_a_shell_program_runs_with_bash_and_sagemaker_parameters_stay_out(tmp_path: Path) -> None:
    invocation = ScriptInvocation(
        program="run.sh",
        code_dir=tmp_path / "code",
        hyperparameters={"epochs": "2", "sagemaker_program": '"run.sh"', "sagemaker_distributed": "false"},
    )
    assert invocation.argv("/usr/bin/python3") == ["bash", str(tmp_path / "code" / "run.sh"), "--epochs", "2"]
    env = invocation.environment(
        TrainingWorkspace(tmp_path), job_name="j", job_arn="arn", channels=[ChannelSpec("train")],
        user_environment={"SM_LOG_LEVEL": "10"}, base={"PYTHONPATH": "/elsewhere"},
    )
    assert env["SM_HPS"] == '{"epochs": 2}'
    assert env["SM_FRAMEWORK_PARAMS"] == '{"sagemaker_distributed": false}'
    assert env["PYTHONPATH"] == f"{tmp_path / 'code'}:/elsewhere"
    assert env["SM_LOG_LEVEL"] == "10"  # the job's Environment wins


def test_framework_images_are_recognised_on_any_registry_and_tag() -> None:
    assert framework_for_image("pytorch-training:2.1.0-cpu-py310").repository == "pytorch-training"
    assert framework_for_image("my.registry/team/sagemaker-scikit-learn@sha256:00").name == "scikit-learn"
    assert framework_for_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/kmeans:1") is None
    assert framework_for_image(None) is None


def test_install_hints_pin_what_the_tag_names() -> None:
    hint = install_hint
    assert hint(framework_for_image("x/pytorch-training:2.13.0-cpu-py311"), "x/pytorch-training:2.13.0-cpu-py311") == (
        "pip install torch==2.13.0"
    )
    sklearn = "x/sagemaker-scikit-learn:1.2-1"
    assert hint(framework_for_image(sklearn), sklearn) == "pip install scikit-learn==1.2.*"
    tensorflow = "x/tensorflow-training:2.14.1-cpu-py310"
    assert hint(framework_for_image(tensorflow), tensorflow) == "pip install tensorflow"
    assert hint(framework_for_image("x/pytorch-training"), "x/pytorch-training") == "pip install torch"
