"""SageMaker PCA's hyperparameters: defaults, required ones, allowed values, cross rules."""

from __future__ import annotations

import pytest

from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.pca.hyperparameters import PCA_HYPERPARAMETERS
from sagebox.algorithms.pca.spec import PCA

REQUIRED = {"feature_dim": "50", "mini_batch_size": "500", "num_components": "5"}


def test_defaults_are_sagemakers() -> None:
    assert PCA_HYPERPARAMETERS.validate(REQUIRED) == {
        "feature_dim": 50,
        "mini_batch_size": 500,
        "num_components": 5,
        "algorithm_mode": "regular",
        "extra_components": -1,
        "subtract_mean": True,
    }


@pytest.mark.parametrize("missing", ["feature_dim", "mini_batch_size", "num_components"])
def test_required(missing: str) -> None:
    given = {name: value for name, value in REQUIRED.items() if name != missing}
    with pytest.raises(HyperparameterError, match=f"Hyperparameter '{missing}' is required"):
        PCA_HYPERPARAMETERS.validate(given)


def test_what_the_sagemaker_sdk_sends_is_accepted() -> None:
    values = PCA.validate_hyperparameters(
        {
            **REQUIRED,
            "algorithm_mode": "randomized",
            "subtract_mean": "False",
            "extra_components": "0",
            "_tuning_objective_metric": "",
        }
    )
    assert values["subtract_mean"] is False and values["extra_components"] == 0


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("feature_dim", "0", "an integer >= 1"),
        ("mini_batch_size", "-5", "an integer >= 1"),
        ("num_components", "two", "an integer >= 1"),
        ("algorithm_mode", "exact", "one of 'regular', 'randomized'"),
        ("extra_components", "-2", "an integer >= -1"),
        ("subtract_mean", "sometimes", "'true' or 'false'"),
    ],
)
def test_bad_values_name_the_hyperparameter_and_what_is_allowed(
    name: str, value: str, allowed: str
) -> None:
    with pytest.raises(HyperparameterError) as caught:
        PCA_HYPERPARAMETERS.validate({**REQUIRED, name: value})
    message = str(caught.value)
    assert f"Hyperparameter '{name}'" in message and value in message and allowed in message


def test_more_components_than_features_is_refused() -> None:
    with pytest.raises(HyperparameterError) as caught:
        PCA_HYPERPARAMETERS.validate({**REQUIRED, "num_components": "51"})
    assert "Hyperparameter 'num_components'" in str(caught.value)
    assert "an integer <= feature_dim (50)" in str(caught.value)
    assert (
        PCA_HYPERPARAMETERS.validate({**REQUIRED, "num_components": "50"})["num_components"] == 50
    )


def test_spec_registers_the_algorithm() -> None:
    assert [d["Name"] for d in PCA.metric_definitions] == ["train:progress"]
    assert PCA.channels == ("train", "test") and PCA.required_channels == ("train",)
    assert PCA.content_types == ("application/x-recordio-protobuf", "text/csv")
