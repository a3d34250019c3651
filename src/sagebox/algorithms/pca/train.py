"""Training SageMaker PCA in a job folder.

Streams the ``train`` channel in mini-batches of ``mini_batch_size`` rows (once in
``regular`` mode, a few times in ``randomized`` mode; CSV rows carry no label unless
the ContentType says ``label_size=1``), and saves the model as SageMaker lays it
out (first host only), in ``model_algo-1.npz``:

- ``s``: the ``num_components`` singular values, in ascending order;
- ``v``: ``feature_dim x num_components``, the components as columns, same order;
- ``mean``: ``1 x feature_dim``, only when ``subtract_mean`` is true.

A ``test`` channel, when given, is projected and its reconstruction error logged;
SageMaker's PCA reports no quality metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from sagebox.algorithms.amazon.data import check_channels, has_channel
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.amazon.unlabelled_rows import finite_batches
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.pca.decomposition import RANDOMIZED, NoRows, PCAModel, fit, sketch_size
from sagebox.algorithms.pca.hyperparameters import PCA_HYPERPARAMETERS

CHANNELS = ("train", "test")
MODEL_NAME = "model_algo-1"
"""The model file is ``model_algo-1.npz`` (SageMaker's artifact is ``model_algo-1``)."""
SEED = 0
"""Randomized mode's random block; SageMaker's PCA takes no seed."""


def model_arrays(model: PCAModel) -> dict[str, np.ndarray]:
    """SageMaker's layout: ascending singular values ``s``, components ``v``, ``mean``."""
    arrays = {
        "s": model.singular_values[::-1].astype(np.float32),
        "v": model.components[:, ::-1].astype(np.float32),
    }
    if model.mean is not None:
        arrays["mean"] = model.mean.reshape(1, -1).astype(np.float32)
    return arrays


def reconstruction_error(batches: Iterable[np.ndarray], model: PCAModel) -> tuple[float, int]:
    """(mean squared distance between rows and their reconstruction, rows)."""
    total, rows = 0.0, 0
    for batch in batches:
        data = np.asarray(batch, dtype=np.float64)
        centred = data - model.mean if model.mean is not None else data
        residual = centred - (centred @ model.components) @ model.components.T
        total += float(np.einsum("ij,ij->", residual, residual))
        rows += data.shape[0]
    return (total / rows if rows else 0.0), rows


def train(env: TrainingEnvironment) -> None:
    check_channels(env, CHANNELS)
    values = PCA_HYPERPARAMETERS.validate(env.hyperparameters)
    feature_dim, batch_size = values["feature_dim"], values["mini_batch_size"]
    mode, components = values["algorithm_mode"], values["num_components"]
    reporter = MetricReporter(env.resource_config.current_host)

    def batches(channel: str) -> Iterator[np.ndarray]:
        return finite_batches(
            env, channel, batch_size=batch_size, feature_dim=feature_dim, algorithm="PCA"
        )

    def on_pass(done: int, total: int) -> None:
        reporter.progress(100.0 * done / total)

    if mode == RANDOMIZED:
        size = min(sketch_size(components, values["extra_components"]), feature_dim)
        log(f"randomized PCA: {components} components from a {feature_dim} x {size} block")
    elif "extra_components" in env.hyperparameters:
        log("extra_components only applies to algorithm_mode 'randomized'; it is ignored")
    try:
        model = fit(
            lambda: batches("train"),
            feature_dim=feature_dim,
            num_components=components,
            algorithm_mode=mode,
            subtract_mean=values["subtract_mean"],
            extra_components=values["extra_components"],
            seed=SEED,
            on_pass=on_pass,
        )
    except NoRows:
        raise TrainingError("channel 'train' has no rows") from None
    log(
        f"{model.rows} rows; explained variance of the components: "
        + ", ".join(f"{value:.6g}" for value in model.explained_variance)
    )
    if is_first_host(env):
        save_model(
            env.model_dir,
            MODEL_NAME,
            model_arrays(model),
            {
                "num_components": components,
                "feature_dim": feature_dim,
                "subtract_mean": values["subtract_mean"],
                "algorithm_mode": mode,
            },
        )
    if has_channel(env, "test"):
        error, rows = reconstruction_error(batches("test"), model)
        log(f"test channel: {rows} rows, mean squared reconstruction error {error:.6g}")
