"""SageMaker K-Means' hyperparameters: defaults, required ones, allowed values, auto."""

from __future__ import annotations

import pytest

from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.kmeans.hyperparameters import (
    KMEANS_HYPERPARAMETERS,
    auto_extra_center_factor,
)
from sagebox.algorithms.kmeans.spec import KMEANS
from sagebox.algorithms.kmeans.train import settings_from

REQUIRED = {"k": "10", "feature_dim": "784"}


def test_defaults_are_sagemakers() -> None:
    values = KMEANS_HYPERPARAMETERS.validate(REQUIRED)
    assert values == {
        "feature_dim": 784,
        "k": 10,
        "epochs": 1,
        "eval_metrics": ("msd",),
        "extra_center_factor": "auto",
        "half_life_time_size": 0,
        "init_method": "random",
        "local_lloyd_init_method": "kmeans++",
        "local_lloyd_max_iter": 300,
        "local_lloyd_num_trials": "auto",
        "local_lloyd_tol": 0.0001,
        "mini_batch_size": 5000,
        "force_dense": True,
    }


@pytest.mark.parametrize("missing", ["k", "feature_dim"])
def test_k_and_feature_dim_are_required(missing: str) -> None:
    given = {name: value for name, value in REQUIRED.items() if name != missing}
    with pytest.raises(HyperparameterError, match=f"Hyperparameter '{missing}' is required"):
        KMEANS_HYPERPARAMETERS.validate(given)


def test_what_the_sagemaker_sdk_sends_is_accepted() -> None:
    sent = {
        "k": "10",
        "feature_dim": "784",
        "mini_batch_size": "500",
        "force_dense": "True",
        "init_method": "kmeans++",
        "local_lloyd_max_iter": "100",
        "local_lloyd_tol": "0.001",
        "local_lloyd_num_trials": "3",
        "local_lloyd_init_method": "random",
        "half_life_time_size": "1000",
        "epochs": "3",
        "extra_center_factor": "4",
        "eval_metrics": '["msd", "ssd"]',
        "_tuning_objective_metric": "test:msd",
    }
    values = KMEANS.validate_hyperparameters(sent)
    assert values["eval_metrics"] == ("msd", "ssd")
    assert values["extra_center_factor"] == 4 and values["local_lloyd_num_trials"] == 3
    settings = settings_from(values)
    assert settings.num_centers == 40 and settings.local_lloyd_num_trials == 3


@pytest.mark.parametrize(
    ("text", "metrics"),
    [('["msd"]', ("msd",)), ('["ssd"]', ("ssd",)), ("msd,ssd", ("msd", "ssd")), ("ssd", ("ssd",))],
)
def test_eval_metrics_forms(text: str, metrics: tuple[str, ...]) -> None:
    assert (
        KMEANS_HYPERPARAMETERS.validate({**REQUIRED, "eval_metrics": text})["eval_metrics"]
        == metrics
    )


def test_auto_resolves_to_sageboxs_choices() -> None:
    settings = settings_from(
        KMEANS_HYPERPARAMETERS.validate({**REQUIRED, "extra_center_factor": "AUTO"})
    )
    assert settings.extra_center_factor == 20 and settings.num_centers == 200
    assert settings.local_lloyd_num_trials == 10
    assert auto_extra_center_factor(1000) == 10 and auto_extra_center_factor(20_000) == 1


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("k", "0", "an integer >= 1"),
        ("k", "ten", "an integer >= 1"),
        ("feature_dim", "-3", "an integer >= 1"),
        ("epochs", "0", "an integer >= 1"),
        ("mini_batch_size", "1.5", "an integer >= 1"),
        ("half_life_time_size", "-1", "an integer >= 0"),
        ("extra_center_factor", "0", "a positive integer or 'auto'"),
        ("extra_center_factor", "often", "a positive integer or 'auto'"),
        ("local_lloyd_num_trials", "-2", "a positive integer or 'auto'"),
        ("local_lloyd_max_iter", "0", "an integer >= 1"),
        ("local_lloyd_tol", "1.5", "a number in [0, 1]"),
        ("local_lloyd_tol", "nan", "a number in [0, 1]"),
        ("init_method", "k-means++", "one of 'random', 'kmeans++'"),
        ("local_lloyd_init_method", "forgy", "one of 'random', 'kmeans++'"),
        ("force_dense", "maybe", "'true' or 'false'"),
    ],
)
def test_bad_values_name_the_hyperparameter_and_what_is_allowed(
    name: str, value: str, allowed: str
) -> None:
    with pytest.raises(HyperparameterError) as caught:
        KMEANS_HYPERPARAMETERS.validate({**REQUIRED, name: value})
    message = str(caught.value)
    assert f"Hyperparameter '{name}'" in message and value in message and allowed in message


def test_bad_eval_metrics_name_the_item() -> None:
    with pytest.raises(HyperparameterError, match="item 'mse' is not allowed.*'msd', 'ssd'"):
        KMEANS_HYPERPARAMETERS.validate({**REQUIRED, "eval_metrics": '["msd", "mse"]'})
    with pytest.raises(HyperparameterError, match="names a metric twice"):
        KMEANS_HYPERPARAMETERS.validate({**REQUIRED, "eval_metrics": '["msd", "msd"]'})


def test_unknown_hyperparameters_are_refused() -> None:
    with pytest.raises(HyperparameterError, match="'num_clusters': not a hyperparameter"):
        KMEANS_HYPERPARAMETERS.validate({**REQUIRED, "num_clusters": "3"})


def test_spec_registers_sagemakers_metrics_and_channels() -> None:
    names = [definition["Name"] for definition in KMEANS.metric_definitions]
    assert names == ["test:msd", "test:ssd", "train:progress"]
    assert KMEANS.channels == ("train", "test") and KMEANS.required_channels == ("train",)
    assert KMEANS.default_content_type == "application/x-recordio-protobuf"
