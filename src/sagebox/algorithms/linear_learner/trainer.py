"""Training ``num_models`` linear models together, in one vectorised pass over the data.

The weights of all models form one matrix ``[features, outputs * models]``; each
mini-batch costs one product with the features for the scores and one with the
transposed features for the gradient, whatever the number of models. Every model
has its own learning rate, L2 and L1 strength and positive-example weight
(``grid``).

After each epoch every model's loss is measured on the validation rows (else the
epoch's training loss is used) and each model keeps the weights of its best epoch.
Training stops early once the best loss (or, with a validation channel and an
explicitly chosen ``binary_classifier_model_selection_criteria``, the best
criterion value) stops improving by ``early_stopping_tolerance`` (relative) for
``early_stopping_patience`` epochs. Finally the models are compared on the
validation rows (else a sample of the training rows): binary classifiers by the
selection criterion after tuning their decision threshold, the others by their
loss. The winner is returned with its weights folded back onto the raw features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.linear_learner.config import LR_UPDATES_PER_EPOCH, TrainingConfig
from sagebox.algorithms.linear_learner.grid import ModelGrid, model_grid
from sagebox.algorithms.linear_learner.losses import LossParameters, link, loss_and_gradient
from sagebox.algorithms.linear_learner.metrics import ThresholdCriterion, tune_thresholds
from sagebox.algorithms.linear_learner.model import LinearModel
from sagebox.algorithms.linear_learner.optimizers import make_optimizer
from sagebox.algorithms.linear_learner.scaler import Features, Scaler, fit_scaler

SELECTION_SAMPLE = 20_000
"""Without a validation channel, models are compared on at most this many training rows."""
DTYPE = np.float32
"""Training computes in single precision, as SageMaker's own implementation does."""


@dataclass(frozen=True)
class Dataset:
    """Rows of features (dense or CSR) and their labels."""

    features: Features
    labels: np.ndarray

    @property
    def num_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])

    def take(self, rows: np.ndarray) -> Dataset:
        return Dataset(self.features[rows], self.labels[rows])


@dataclass(frozen=True)
class EpochReport:
    """What one epoch achieved, for the epoch's best model (the lowest loss)."""

    epoch: int
    train_loss: float
    validation_loss: float | None
    selection_value: float
    best_model: int


@dataclass(frozen=True)
class TrainingResult:
    """The chosen model (``model_index`` in the grid) and how training went."""

    model: LinearModel
    model_index: int
    epochs_run: int
    stopped_early: bool
    grid: ModelGrid
    history: list[EpochReport] = field(default_factory=list)


def default_threshold(loss: str) -> float:
    """The decision threshold before tuning: 0.5 for probabilities, 0 for hinge margins."""
    return 0.5 if loss == "logistic" else 0.0


def criterion_of(config: TrainingConfig) -> ThresholdCriterion:
    return ThresholdCriterion(
        config.selection_criterion,
        config.selection_beta,
        config.target_precision,
        config.target_recall,
    )


@dataclass
class _Parameters:
    """Weights ``[features, columns]`` and bias ``[columns]`` of every model.

    Columns are output-major: for multiclass models, class ``c`` of model ``m`` is
    column ``c * models + m``, so per-class reductions run over contiguous models.
    """

    weights: np.ndarray
    bias: np.ndarray
    outputs: int

    @property
    def models(self) -> int:
        return self.bias.shape[0] // self.outputs

    def columns(self, model: int) -> slice:
        return slice(model, None, self.models)

    def copy(self) -> _Parameters:
        return _Parameters(self.weights.copy(), self.bias.copy(), self.outputs)

    def scores(self, features: Features, shift: np.ndarray | None) -> np.ndarray:
        """Scores ``[rows, models]`` or ``[rows, classes, models]`` of normalised rows
        (minus ``shift``, if any)."""
        flat = np.asarray(features @ self.weights)
        flat += self.bias if shift is None else self.bias - shift @ self.weights
        if self.outputs == 1:
            return flat
        return flat.reshape(len(flat), self.outputs, self.models)

    def keep(self, source: _Parameters, chosen: np.ndarray) -> None:
        """Copy the models flagged in ``chosen`` (``[models]``) from ``source``."""
        mask = np.tile(chosen, self.outputs)
        self.weights[:, mask] = source.weights[:, mask]
        self.bias[mask] = source.bias[mask]


class _Models:
    """The models being trained: their parameters, optimizers and per-column settings."""

    def __init__(
        self, config: TrainingConfig, grid: ModelGrid, width: int, rng: np.random.Generator
    ) -> None:
        self.config = config
        outputs = config.outputs
        columns = grid.num_models * outputs
        if config.init_method == "normal":
            weights = rng.normal(0.0, config.init_sigma, size=(width, columns))
        else:
            weights = rng.uniform(-config.init_scale, config.init_scale, size=(width, columns))
        bias = np.full(columns, config.init_bias if config.use_bias else 0.0)
        self.parameters = _Parameters(weights.astype(DTYPE), bias.astype(DTYPE), outputs)
        self.learning_rate = np.tile(grid.learning_rate, outputs).astype(DTYPE)
        self.wd = np.tile(grid.wd, outputs).astype(DTYPE)
        self.l1 = np.tile(grid.l1, outputs).astype(DTYPE)
        self.minimum_rate = np.minimum(self.learning_rate, config.lr_scheduler_minimum_lr)
        settings = {"momentum": config.momentum, "beta_1": config.beta_1, "beta_2": config.beta_2}
        self.weight_optimizer = make_optimizer(
            config.optimizer, weights.shape, dtype=DTYPE, **settings
        )
        self.bias_optimizer = make_optimizer(config.optimizer, bias.shape, dtype=DTYPE, **settings)

    def update(
        self, features: Features, gradient: np.ndarray, shift: np.ndarray | None, rate: float
    ) -> None:
        """One optimizer step from the rows' d(loss)/d(scores) ``[rows, columns]``: the
        gradient of the batch's mean loss plus the penalties."""
        parameters = self.parameters
        mean = DTYPE(1.0 / len(gradient))
        column_sums = gradient.sum(axis=0)
        column_sums *= mean
        weight_gradient = np.asarray(features.T @ gradient)
        weight_gradient *= mean
        if shift is not None:
            weight_gradient -= np.outer(shift, column_sums)
        weight_gradient += self.wd * parameters.weights
        rates = self.learning_rate * DTYPE(rate)
        if self.config.use_lr_scheduler:
            np.maximum(rates, self.minimum_rate, out=rates)
        self.weight_optimizer.step(parameters.weights, weight_gradient, rates, self.l1)
        if self.config.use_bias:
            bias_gradient = column_sums
            if self.config.bias_wd_mult:
                decay = DTYPE(self.config.bias_wd_mult) * self.wd * parameters.bias
                bias_gradient = bias_gradient + decay
            self.bias_optimizer.step(
                parameters.bias, bias_gradient, rates * DTYPE(self.config.bias_lr_mult)
            )


class _Evaluator:
    """Measures every model on a fixed set of normalised rows (validation, or a training
    sample) whose labels are in their own units."""

    def __init__(
        self,
        config: TrainingConfig,
        rows: Dataset,
        shift: np.ndarray | None,
        scaler: Scaler,
        params: LossParameters,
    ) -> None:
        self.config = config
        self.features, self.shift = rows.features, shift
        self.labels = rows.labels
        self.scaler = scaler
        self.params = params
        self.calibration_rows = min(config.num_calibration_samples, rows.num_rows)
        self.criterion = criterion_of(config)

    def losses(self, parameters: _Parameters) -> tuple[np.ndarray, np.ndarray]:
        """(mean unweighted loss per model in the label's own units, raw scores)."""
        scores = parameters.scores(self.features, self.shift)
        if self.config.is_regressor:
            original = scores.astype(np.float64) * self.scaler.label_scale
            original += self.scaler.label_shift
            loss, _ = loss_and_gradient(self.config.loss, original, self.labels, self.params)
        else:
            loss, _ = loss_and_gradient(self.config.loss, scores, self.labels, self.params)
        return loss.mean(axis=0, dtype=np.float64), scores

    def thresholds(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tuned threshold, criterion value) per model from its scores on these rows."""
        count = self.calibration_rows
        raw, values = tune_thresholds(scores[:count].T, self.labels[:count], self.criterion)
        return link(self.config.loss, raw.astype(np.float64)), values


def _class_weight_table(
    config: TrainingConfig, grid: ModelGrid, labels: np.ndarray
) -> Callable[[np.ndarray], np.ndarray | None]:
    """A function from a batch's labels to its loss weights (or None)."""
    if config.is_binary and np.any(grid.positive_weight != 1.0):
        weights = grid.positive_weight[None, :]
        return lambda batch: np.where(batch[:, None] == 1, weights, 1.0).astype(DTYPE)
    if config.is_multiclass and config.balance_multiclass_weights:
        counts = np.bincount(labels.astype(np.intp), minlength=config.num_classes).astype(float)
        table = np.where(counts > 0, len(labels) / (config.num_classes * np.maximum(counts, 1)), 0)
        return lambda batch: table[batch.astype(np.intp)][:, None].astype(DTYPE)
    return lambda batch: None


def _rate_schedule(config: TrainingConfig, batches_per_epoch: int) -> Callable[[int], float]:
    """The learning-rate multiplier after ``updates`` optimizer steps."""
    if not config.use_lr_scheduler:
        return lambda updates: 1.0
    step = config.lr_scheduler_step or max(1, batches_per_epoch // LR_UPDATES_PER_EPOCH)
    factor = config.lr_scheduler_factor
    return lambda updates: factor ** (updates // step)


def _improved(value: float, best: float, tolerance: float) -> bool:
    """``value`` beats ``best`` (higher is better) by more than ``tolerance`` relative to it."""
    if not np.isfinite(best):
        return bool(np.isfinite(value))
    return value - best > tolerance * max(abs(best), 1e-12)


def _loss_power(loss: str) -> int:
    """How a regression loss scales with the label's unit: quadratic ones twice, others once."""
    return 2 if loss in ("squared_loss", "eps_insensitive_squared_loss", "huber_loss") else 1


class _Run:
    """One training run: the data prepared for it, the models and the epoch loop."""

    def __init__(
        self,
        config: TrainingConfig,
        train: Dataset,
        validation: Dataset | None,
        rng: np.random.Generator,
    ) -> None:
        self.config = config
        self.train = train
        self.rng = rng
        dense = not sp.issparse(train.features)
        unbias = config.unbias_data if config.unbias_data is not None else dense
        self.scaler = fit_scaler(
            train.features,
            train.labels,
            sample_size=config.num_point_for_scaler,
            normalize_data=config.normalize_data,
            unbias_data=unbias and config.use_bias,
            normalize_label=config.normalize_label,
            unbias_label=config.unbias_label,
            rng=rng,
        )
        self.grid = model_grid(config, train.labels, rng)
        self.models = _Models(config, self.grid, train.num_features, rng)
        self.params = LossParameters(
            config.margin, config.loss_insensitivity, config.quantile, config.huber_delta
        )
        regression = config.is_regressor
        self.train_params = (
            self.params.scaled(self.scaler.label_scale) if regression else self.params
        )
        labels = self.scaler.labels(train.labels) if regression else train.labels
        self.labels = labels.astype(DTYPE)
        self.features, self.shift = self.scaler.apply(train.features, DTYPE)
        self.weights_of = _class_weight_table(config, self.grid, train.labels)
        self.validation = None
        if validation is not None:
            features, shift = self.scaler.apply(validation.features, DTYPE)
            rows = Dataset(features, validation.labels)
            self.validation = _Evaluator(config, rows, shift, self.scaler, self.params)
        self.batch_size = min(config.mini_batch_size, train.num_rows)
        batches = -(-train.num_rows // self.batch_size)
        self.rate_factor = _rate_schedule(config, batches)
        self.updates = 0

    def training_sample(self) -> _Evaluator:
        """An evaluator over (a sample of at most ``SELECTION_SAMPLE``) training rows."""
        rows = Dataset(self.features, self.train.labels)
        if rows.num_rows > SELECTION_SAMPLE:
            chosen = self.rng.choice(rows.num_rows, SELECTION_SAMPLE, replace=False)
            rows = rows.take(np.sort(chosen))
        return _Evaluator(self.config, rows, self.shift, self.scaler, self.params)

    def epoch(self) -> np.ndarray:
        """One pass over the shuffled training rows; each model's mean (weighted) loss."""
        config, models = self.config, self.models
        order = self.rng.permutation(self.train.num_rows)
        loss_sum = np.zeros(models.parameters.models)
        for start in range(0, self.train.num_rows, self.batch_size):
            rows = order[start : start + self.batch_size]
            features = self.features[rows]
            scores = models.parameters.scores(features, self.shift)
            loss, gradient = loss_and_gradient(
                config.loss, scores, self.labels[rows], self.train_params
            )
            weights = self.weights_of(self.train.labels[rows])
            if weights is not None:
                loss = loss * weights
                gradient *= weights if gradient.ndim == 2 else weights[:, None, :]
            loss_sum += loss.sum(axis=0)
            gradient = gradient.reshape(len(rows), -1)
            models.update(features, gradient, self.shift, self.rate_factor(self.updates))
            self.updates += 1
        train_loss = loss_sum / self.train.num_rows
        if config.is_regressor:
            train_loss *= self.scaler.label_scale ** _loss_power(config.loss)
        return train_loss


def train_models(
    config: TrainingConfig,
    train: Dataset,
    validation: Dataset | None = None,
    *,
    seed: int = 0,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> TrainingResult:
    """Train ``config.num_models`` models and return the best (see the module doc)."""
    rng = np.random.default_rng(seed)
    run = _Run(config, train, validation, rng)
    current = run.models.parameters
    best = current.copy()
    best_loss = np.full(current.models, np.inf)
    history: list[EpochReport] = []
    stop_best, stale, stopped = -np.inf, 0, False
    stop_on_criterion = config.early_stop_on_criterion and run.validation is not None

    for epoch in range(config.epochs):
        train_loss = run.epoch()
        validation_loss = None
        if run.validation is not None:
            validation_loss, scores = run.validation.losses(current)
        loss = train_loss if validation_loss is None else validation_loss
        loss = np.where(np.isfinite(loss), loss, np.inf)
        improved = loss <= best_loss
        best.keep(current, improved)
        best_loss = np.where(improved, loss, best_loss)
        leader = int(np.argmin(loss))
        if stop_on_criterion:
            watched = float(run.validation.thresholds(scores)[1].max())
        else:
            watched = -float(loss[leader])
        report = EpochReport(
            epoch=epoch,
            train_loss=float(train_loss[leader]),
            validation_loss=None if validation_loss is None else float(validation_loss[leader]),
            selection_value=watched,
            best_model=leader,
        )
        history.append(report)
        if on_epoch is not None:
            on_epoch(report)
        if _improved(watched, stop_best, config.early_stopping_tolerance):
            stop_best, stale = watched, 0
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                stopped = True
                break

    chosen, threshold = _select(config, run, best)
    columns = best.columns(chosen)
    weights, bias = best.weights[:, columns], best.bias[columns]
    if best.outputs == 1:
        weights, bias = weights[:, 0], bias[0]
    raw_weights, raw_bias = run.scaler.fold(
        weights.astype(np.float64), np.asarray(bias, dtype=np.float64)
    )
    model = LinearModel(
        predictor_type=config.predictor_type,
        loss=config.loss,
        weights=raw_weights,
        bias=np.asarray(raw_bias, dtype=np.float64),
        threshold=threshold,
    )
    return TrainingResult(model, chosen, len(history), stopped, run.grid, history)


def _select(config: TrainingConfig, run: _Run, best: _Parameters) -> tuple[int, float]:
    """(the best model, its decision threshold), measured on the validation rows if any,
    else on a sample of the training rows."""
    evaluator = run.validation or run.training_sample()
    loss, scores = evaluator.losses(best)
    loss = np.where(np.isfinite(loss), loss, np.inf)
    if not config.selects_by_threshold:
        return int(np.argmin(loss)), default_threshold(config.loss)
    thresholds, values = evaluator.thresholds(scores)
    order = np.lexsort((loss, -values))
    chosen = int(order[0])
    return chosen, float(thresholds[chosen])
