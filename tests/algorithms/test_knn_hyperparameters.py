"""SageMaker k-NN's hyperparameters: required ones, defaults, allowed values, cross rules."""

from __future__ import annotations

import pytest

from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.knn.hyperparameters import KNN_HYPERPARAMETERS
from sagebox.algorithms.knn.model import KnnConfig
from sagebox.algorithms.registry import resolve

REQUIRED = {"feature_dim": "10", "k": "5", "predictor_type": "classifier", "sample_size": "100"}


def test_defaults_and_typed_values() -> None:
    values = KNN_HYPERPARAMETERS.validate(REQUIRED)
    assert values == {
        "feature_dim": 10,
        "k": 5,
        "predictor_type": "classifier",
        "sample_size": 100,
        "dimension_reduction_type": None,
        "dimension_reduction_target": None,
        "index_type": "faiss.Flat",
        "index_metric": "L2",
        "faiss_index_ivf_nlists": "auto",
        "faiss_index_pq_m": None,
        "mini_batch_size": 5000,
    }
    config = KnnConfig.from_hyperparameters(values)
    assert config.nlist is None and config.index_dim == 10


def test_sdk_encoded_values_and_reserved_names_are_accepted() -> None:
    values = KNN_HYPERPARAMETERS.validate(
        {
            **REQUIRED,
            "predictor_type": '"regressor"',
            "faiss_index_ivf_nlists": "12",
            "faiss_index_pq_m": "8.0",
            "index_type": "faiss.IVFPQ",
            "_tuning_objective_metric": "test:mse",
        }
    )
    assert values["predictor_type"] == "regressor"
    assert values["faiss_index_ivf_nlists"] == 12 and values["faiss_index_pq_m"] == 8


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required_hyperparameters(missing: str) -> None:
    given = {name: value for name, value in REQUIRED.items() if name != missing}
    with pytest.raises(HyperparameterError, match=f"'{missing}' is required"):
        KNN_HYPERPARAMETERS.validate(given)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("k", "0", "an integer >= 1"),
        ("k", "2.5", "an integer >= 1"),
        ("feature_dim", "-1", "an integer >= 1"),
        ("sample_size", "many", "an integer >= 1"),
        ("predictor_type", "ranker", "'classifier', 'regressor'"),
        ("dimension_reduction_type", "pca", "'sign', 'fjlt'"),
        ("index_type", "faiss.HNSW", "'faiss.Flat', 'faiss.IVFFlat', 'faiss.IVFPQ'"),
        ("index_metric", "L1", "'L2', 'INNER_PRODUCT', 'COSINE'"),
        ("faiss_index_ivf_nlists", "0", "'auto' or an integer >= 1"),
        ("faiss_index_ivf_nlists", "some", "'auto' or an integer >= 1"),
        ("faiss_index_pq_m", "5", "one of 1, 2, 3, 4, 8, 12"),
        ("mini_batch_size", "0", "an integer >= 1"),
        ("epochs", "", "not a hyperparameter of this algorithm"),
    ],
)
def test_bad_values_name_the_hyperparameter(name: str, value: str, allowed: str) -> None:
    with pytest.raises(HyperparameterError) as error:
        KNN_HYPERPARAMETERS.validate({**REQUIRED, name: value})
    assert error.value.name == name
    assert value in str(error.value) and allowed in str(error.value)


def test_reduction_type_needs_a_target_below_feature_dim() -> None:
    with pytest.raises(HyperparameterError, match="dimension_reduction_target.*required when"):
        KNN_HYPERPARAMETERS.validate({**REQUIRED, "dimension_reduction_type": "sign"})
    with pytest.raises(HyperparameterError, match="not below feature_dim \\(10\\)"):
        KNN_HYPERPARAMETERS.validate(
            {**REQUIRED, "dimension_reduction_type": "fjlt", "dimension_reduction_target": "10"}
        )
    values = KNN_HYPERPARAMETERS.validate(
        {**REQUIRED, "dimension_reduction_type": "fjlt", "dimension_reduction_target": "4"}
    )
    assert KnnConfig.from_hyperparameters(values).index_dim == 4
    ignored = KNN_HYPERPARAMETERS.validate({**REQUIRED, "dimension_reduction_target": "40"})
    assert KnnConfig.from_hyperparameters(ignored).index_dim == 10


@pytest.mark.parametrize("metric", ["INNER_PRODUCT", "COSINE"])
def test_ivfpq_measures_l2_only(metric: str) -> None:
    with pytest.raises(HyperparameterError, match=f"index_metric.*'{metric}'.*faiss.IVFPQ"):
        KNN_HYPERPARAMETERS.validate(
            {**REQUIRED, "index_type": "faiss.IVFPQ", "index_metric": metric}
        )
    KNN_HYPERPARAMETERS.validate(
        {**REQUIRED, "index_type": "faiss.IVFFlat", "index_metric": metric}
    )


def test_k_cannot_exceed_sample_size() -> None:
    with pytest.raises(HyperparameterError, match="'k'.*sample_size \\(100\\)"):
        KNN_HYPERPARAMETERS.validate({**REQUIRED, "k": "101"})


def test_the_registry_knows_knn() -> None:
    spec = resolve("382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1")
    assert spec is not None and spec.name == "knn"
    assert spec.entry_module == "sagebox.algorithms.knn"
    assert {d["Name"] for d in spec.metric_definitions} == {"test:accuracy", "test:mse"}
    assert spec.channels == ("train", "test") and spec.required_channels == ("train",)
    assert resolve(algorithm_name="knn") is spec
