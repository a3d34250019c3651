"""Factorization Machines' mathematics: predictions, gradients, Adam and fitting, against references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression

from sagebox.algorithms.factorization_machines.fitting import (
    FitSettings,
    GroupSettings,
    fit,
    initialize,
)
from sagebox.algorithms.factorization_machines.metrics import QualityAccumulator
from sagebox.algorithms.factorization_machines.model import (
    FactorizationMachine,
    backward,
    forward,
    sigmoid,
)
from sagebox.algorithms.factorization_machines.optimizer import LazyAdam


def naive_output(
    rows: np.ndarray, bias: float, linear: np.ndarray, factors: np.ndarray
) -> np.ndarray:
    """The FM equation term by term: O(features^2) per row."""
    out = []
    for x in rows:
        total = bias + float(linear @ x)
        for i in range(len(x)):
            for j in range(i + 1, len(x)):
                total += float(factors[i] @ factors[j]) * x[i] * x[j]
        out.append(total)
    return np.array(out)


def random_model(
    rng: np.random.Generator, features: int = 7, factors: int = 3
) -> FactorizationMachine:
    return FactorizationMachine(
        0.3,
        rng.normal(size=features).astype(np.float32),
        rng.normal(size=(features, factors)).astype(np.float32),
        "regressor",
    )


def one_hot(rng: np.random.Generator, rows: int, fields: tuple[int, ...]) -> sp.csr_matrix:
    """Rows with one active column per categorical field."""
    offsets = np.cumsum((0,) + fields[:-1])
    columns = np.column_stack(
        [rng.integers(0, size, rows) + offset for size, offset in zip(fields, offsets, strict=True)]
    )
    data = np.ones(columns.size, dtype=np.float32)
    return sp.csr_matrix(
        (data, (np.repeat(np.arange(rows), len(fields)), columns.ravel())),
        shape=(rows, sum(fields)),
    )


def test_linear_time_identity_equals_the_pairwise_sum() -> None:
    rng = np.random.default_rng(0)
    model = random_model(rng)
    dense = rng.normal(size=(6, 7)) * (rng.random((6, 7)) < 0.6)
    expected = naive_output(
        dense, model.bias, model.linear.astype(np.float64), model.factors.astype(np.float64)
    )
    np.testing.assert_allclose(model.raw(dense), expected, rtol=1e-6)
    np.testing.assert_allclose(model.raw(sp.csr_matrix(dense)), expected, rtol=1e-6)


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(1)
    rows = sp.csr_matrix(rng.normal(size=(5, 4)) * (rng.random((5, 4)) < 0.7))
    bias, linear, factors = 0.1, rng.normal(size=4), rng.normal(size=(4, 2))
    weights = rng.normal(size=5)  # d loss / d output of a loss sum(weights * output)
    _, cache = forward(rows, bias, linear, factors)
    grad_bias, grad_linear, grad_factors = backward(rows, weights, factors, cache)

    def loss(b: float, w: np.ndarray, v: np.ndarray) -> float:
        return float(weights @ forward(rows, b, w, v)[0])

    step = 1e-6
    assert grad_bias == pytest.approx(
        (loss(bias + step, linear, factors) - loss(bias - step, linear, factors)) / (2 * step),
        rel=1e-5,
    )
    for i in range(4):
        bump = np.eye(4)[i] * step
        numeric = (loss(bias, linear + bump, factors) - loss(bias, linear - bump, factors)) / (
            2 * step
        )
        assert grad_linear[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
        for f in range(2):
            bump = np.zeros((4, 2))
            bump[i, f] = step
            numeric = (loss(bias, linear, factors + bump) - loss(bias, linear, factors - bump)) / (
                2 * step
            )
            assert grad_factors[i, f] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_lazy_adam_updates_only_the_given_rows_like_mxnet() -> None:
    weights = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    adam = LazyAdam(weights.shape, lr=0.1, wd=0.01, eps=1e-8, clip_gradient=0.5)
    adam.step(weights, np.array([0, 2]), np.array([2.0, -0.4]), rescale=0.5, t=1)
    g = np.clip(0.5 * np.array([2.0, -0.4]) + 0.01 * np.array([1.0, 3.0]), -0.5, 0.5)
    m, v = 0.1 * g, 0.001 * g * g
    rate = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expected = np.array([1.0, 3.0]) - rate * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(weights[[0, 2]], expected, rtol=1e-6)
    assert weights[1] == -2.0 and adam.mean[1] == 0.0


def test_initialisation_methods() -> None:
    rng = np.random.default_rng(0)
    normal = GroupSettings(init_method="normal", init_sigma=0.5).initial((20000,), rng)
    assert normal.std() == pytest.approx(0.5, rel=0.03)
    uniform = GroupSettings(init_method="uniform", init_scale=2.0).initial((20000,), rng)
    assert (
        uniform.min() >= -2
        and uniform.max() <= 2
        and uniform.std() == pytest.approx(2 / np.sqrt(3), rel=0.03)
    )
    constant = GroupSettings(init_method="constant", init_value=1.5).initial((3,), rng)
    assert constant.tolist() == [1.5, 1.5, 1.5]
    model = initialize(10, FitSettings("regressor", num_factors=4), np.random.default_rng(0))
    assert model.factors.shape == (10, 4) and model.factors.dtype == np.float32


def test_fit_recovers_a_factorization_machine_near_the_noise_level() -> None:
    rng = np.random.default_rng(2)
    rows = one_hot(rng, 12000, (60, 80))
    truth = FactorizationMachine(
        1.0,
        rng.normal(0, 0.5, 140).astype(np.float32),
        rng.normal(0, 0.6, (140, 3)).astype(np.float32),
        "regressor",
    )
    noise = 0.2
    labels = truth.raw(rows) + rng.normal(0, noise, rows.shape[0])
    settings = FitSettings(
        "regressor",
        num_factors=4,
        epochs=12,
        mini_batch_size=128,
        bias=GroupSettings(lr=0.05, wd=0.0),
        linear=GroupSettings(lr=0.02, wd=0.0),
        factors=GroupSettings(init_sigma=0.1, lr=0.02, wd=0.0),
    )
    history: list[dict[str, float]] = []
    model = fit(
        rows[:10000],
        labels[:10000],
        settings,
        np.random.default_rng(0),
        lambda e, m: history.append(m),
    )
    test_rmse = np.sqrt(np.mean((model.raw(rows[10000:]) - labels[10000:]) ** 2))
    linear_rmse = np.sqrt(
        np.mean(
            (
                LinearRegression().fit(rows[:10000], labels[:10000]).predict(rows[10000:])
                - labels[10000:]
            )
            ** 2
        )
    )
    assert test_rmse < 1.5 * noise < linear_rmse
    assert len(history) == 12 and history[-1]["rmse"] < history[0]["rmse"]


def test_fit_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    rows = one_hot(rng, 500, (10, 10))
    labels = rng.normal(size=500)
    settings = FitSettings("regressor", num_factors=2, epochs=2, mini_batch_size=50)
    first = fit(rows, labels, settings, np.random.default_rng(4))
    second = fit(rows, labels, settings, np.random.default_rng(4))
    np.testing.assert_array_equal(first.factors, second.factors)
    assert first.bias == second.bias


def test_without_factors_it_is_least_squares() -> None:
    """Frozen zero factors leave a linear model; Adam reaches sklearn's least-squares fit."""
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(800, 5))
    labels = rows @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.7 + rng.normal(0, 0.1, 800)
    settings = FitSettings(
        "regressor",
        num_factors=2,
        epochs=150,
        mini_batch_size=800,
        bias=GroupSettings(lr=0.05, wd=0.0),
        linear=GroupSettings(lr=0.05, wd=0.0),
        factors=GroupSettings(init_method="constant", init_value=0.0, lr=0.0, wd=0.0),
    )
    model = fit(sp.csr_matrix(rows), labels, settings, np.random.default_rng(0))
    reference = LinearRegression().fit(rows, labels)
    np.testing.assert_allclose(model.linear, reference.coef_, atol=0.01)
    assert model.bias == pytest.approx(reference.intercept_, abs=0.01)
    assert not model.factors.any()


def test_binary_classifier_without_factors_matches_logistic_regression() -> None:
    rng = np.random.default_rng(6)
    rows = rng.normal(size=(1500, 4))
    labels = (rng.random(1500) < sigmoid(rows @ np.array([2.0, -1.0, 0.0, 1.0]) - 0.5)).astype(
        float
    )
    settings = FitSettings(
        "binary_classifier",
        num_factors=2,
        epochs=300,
        mini_batch_size=1500,
        bias=GroupSettings(lr=0.05, wd=0.0),
        linear=GroupSettings(lr=0.05, wd=0.0),
        factors=GroupSettings(init_method="constant", init_value=0.0, lr=0.0, wd=0.0),
    )
    model = fit(sp.csr_matrix(rows), labels, settings, np.random.default_rng(0))
    reference = LogisticRegression(C=1e6, max_iter=1000).fit(rows, labels)
    np.testing.assert_allclose(model.linear, reference.coef_[0], atol=0.03)
    predicted = model.predict(rows)
    np.testing.assert_allclose(predicted["score"], reference.predict_proba(rows)[:, 1], atol=0.01)
    assert set(np.unique(predicted["predicted_label"]).tolist()) == {0, 1}
    np.testing.assert_array_equal(
        predicted["predicted_label"], (predicted["score"] >= 0.5).astype(int)
    )


def test_quality_metrics() -> None:
    binary = QualityAccumulator("binary_classifier")
    binary.add(np.array([1, 0, 1]), np.array([0.9, 0.6, 0.2]))
    binary.add(np.array([0]), np.array([0.1]))
    results = binary.results()
    assert results["binary_classification_accuracy"] == pytest.approx(0.5)
    assert results["binary_f_beta"] == pytest.approx(0.5)  # tp=1, fp=1, fn=1
    expected = -np.mean(np.log([0.9, 0.4, 0.2, 0.9]))
    assert results["binary_classification_cross_entropy"] == pytest.approx(expected)
    regression = QualityAccumulator("regressor")
    regression.add(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    assert regression.results() == {"rmse": pytest.approx(np.sqrt(0.125))}
    assert QualityAccumulator("regressor").results() == {}


def test_saved_arrays_round_trip() -> None:
    model = random_model(np.random.default_rng(0))
    again = FactorizationMachine.from_arrays(model.to_arrays(), "regressor")
    rows = np.random.default_rng(1).normal(size=(3, 7))
    np.testing.assert_array_equal(again.raw(rows), model.raw(rows))
    with pytest.raises(ValueError, match="linear has 7 weights but factors 6 rows"):
        FactorizationMachine.from_arrays(
            {**model.to_arrays(), "factors": model.factors[:6]}, "regressor"
        )
