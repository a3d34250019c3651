"""Tuning efficiency: Bayesian, Hyperband and early stopping against random search.

The strategies run directly (no server), one trial at a time as a tuning job with
MaxParallelTrainingJobs=1 would, with ``xgboost.train`` in-process as the training
job: the objective is the validation metric after the last boosting round, and
every round's value is fed to Hyperband or the median stopping rule exactly as the
tuning service feeds the metric lines of a job. Three datasets that ship inside
scikit-learn (breast cancer: logloss, diabetes: RMSE, wine: multi-class logloss)
with a fixed 70/30 split, plus a cheap synthetic function for the Bayesian rows.
Every (dataset, seed) pair runs in its own worker process; all trials are seeded.

- Bayesian: trials until its best objective is at least as good as the best of 30
  random-search trials (median over seeds; "> 30" when not reached in 30).
- Hyperband: best objective of HYPERBAND_TRIALS configurations under ASHA
  against the best of the 30 full-budget random trials, and the training rounds
  each spends.
- Early stopping: the same 30 random configurations (same seed) with and without
  the median stopping rule: rounds saved and change of the best objective.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from sagebox.tuning import Decision, MedianStoppingRule, SearchSpace, make_strategy
from sagebox.tuning.hyperband import HyperbandStrategy

SEEDS = tuple(range(10))
RANDOM_TRIALS = 30
BAYESIAN_TARGET_TRIALS = 15
ROUNDS = 150
HYPERBAND = {"MinResource": 5, "MaxResource": ROUNDS}
HYPERBAND_TRIALS = 45
ROUNDS_SHARE_TARGET = 1 / 3
OBJECTIVE_TOLERANCE = 0.01
ROUNDS_SAVED_TARGET = 0.25

XGBOOST_RANGES = {
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
        {"Name": "min_child_weight", "MinValue": "0.1", "MaxValue": "20", "ScalingType": "Auto"},
        {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "Linear"},
        {"Name": "lambda", "MinValue": "0.01", "MaxValue": "100", "ScalingType": "Auto"},
    ],
    "IntegerParameterRanges": [
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "8", "ScalingType": "Linear"},
    ],
}

SYNTHETIC_RANGES = {
    "ContinuousParameterRanges": [
        {"Name": "x1", "MinValue": "-5", "MaxValue": "10", "ScalingType": "Linear"},
        {"Name": "x2", "MinValue": "0", "MaxValue": "15", "ScalingType": "Linear"},
        {"Name": "rate", "MinValue": "0.0001", "MaxValue": "1", "ScalingType": "Auto"},
    ],
    "IntegerParameterRanges": [
        {"Name": "layers", "MinValue": "1", "MaxValue": "20", "ScalingType": "Linear"},
    ],
}

Report = Callable[[int, float], bool]
"""Called after every round with (rounds done, validation metric); True stops the trial."""


@dataclass
class Outcome:
    objective: float
    rounds: int


@dataclass
class Dataset:
    name: str
    metric: str
    params: dict[str, Any]
    train: Any
    valid: Any

    def trial(self, hyperparameters: dict[str, str], report: Report | None = None, rounds: int = ROUNDS) -> Outcome:
        import xgboost

        class Callback(xgboost.callback.TrainingCallback):
            def __init__(self, metric: str) -> None:
                self.metric, self.value, self.rounds = metric, math.nan, 0

            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                self.value = float(evals_log["validation"][self.metric][-1])
                self.rounds = epoch + 1
                return bool(report and report(self.rounds, self.value))

        params = dict(self.params)
        params.update({name: float(text) for name, text in hyperparameters.items()})
        params["max_depth"] = int(params["max_depth"])
        callback = Callback(self.metric)
        xgboost.train(params, self.train, num_boost_round=rounds, evals=[(self.valid, "validation")],
                      verbose_eval=False, callbacks=[callback])
        return Outcome(callback.value, callback.rounds)

    def objective(self, hyperparameters: dict[str, str]) -> float:
        return self.trial(hyperparameters).objective


DATASETS = ("breast_cancer", "diabetes", "wine")


@functools.cache
def _dataset(name: str) -> Dataset:
    import xgboost
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
    from sklearn.model_selection import train_test_split

    base = {"tree_method": "hist", "nthread": 1, "seed": 0}
    specs = [
        ("breast_cancer", load_breast_cancer, "logloss", {"objective": "binary:logistic", "eval_metric": "logloss"}),
        ("diabetes", load_diabetes, "rmse", {"objective": "reg:squarederror", "eval_metric": "rmse"}),
        ("wine", load_wine, "mlogloss", {"objective": "multi:softprob", "num_class": 3, "eval_metric": "mlogloss"}),
    ]
    for known, load, metric, params in specs:
        if known == name:
            x, y = load(return_X_y=True)
            x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.3, random_state=0)
            return Dataset(name, metric, {**base, **params},
                           xgboost.DMatrix(x_train, label=y_train), xgboost.DMatrix(x_valid, label=y_valid))
    raise KeyError(name)


def _synthetic(hyperparameters: dict[str, str]) -> float:
    """Branin in (x1, x2) plus a log-scale bowl in ``rate`` and a parabola in ``layers``."""
    x1, x2 = float(hyperparameters["x1"]), float(hyperparameters["x2"])
    rate, layers = float(hyperparameters["rate"]), int(hyperparameters["layers"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    branin = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    return branin + 4 * (math.log10(rate) + 2.5) ** 2 + 0.2 * (layers - 13) ** 2


def _search(strategy: Any, trials: int, run: Callable[[dict[str, str]], float]) -> list[float]:
    objectives = []
    for _ in range(trials):
        suggestion = strategy.suggest()
        if suggestion is None:
            break
        objective = run(suggestion.hyperparameters)
        strategy.observe(suggestion.trial_id, objective)
        objectives.append(objective)
    return objectives


def _trials_to_reach(objectives: list[float], target: float) -> float:
    for index, value in enumerate(objectives, start=1):
        if value <= target:
            return index
    return math.inf


def _bayesian_reach(space: SearchSpace, seed: int, run: Callable[[dict[str, str]], float], reference: float) -> float:
    """Trials the Bayesian strategy needs to reach ``reference`` (inf: not within the budget)."""
    bayesian = make_strategy("Bayesian", space, objective_type="Minimize", seed=seed + 1000, max_jobs=RANDOM_TRIALS)
    return _trials_to_reach(_search(bayesian, RANDOM_TRIALS, run), reference)


def _random_runs(data: Dataset, space: SearchSpace, seed: int, rule: MedianStoppingRule | None) -> list[Outcome]:
    strategy = make_strategy("Random", space, objective_type="Minimize", seed=seed, max_jobs=RANDOM_TRIALS)
    outcomes = []
    while (suggestion := strategy.suggest()) is not None:
        trial = suggestion.trial_id
        report = None if rule is None else (lambda step, value, trial=trial: rule.report(trial, step, value) is Decision.STOP)
        outcome = data.trial(suggestion.hyperparameters, report)
        if rule is not None:
            rule.complete(trial)
        strategy.observe(trial, outcome.objective)
        outcomes.append(outcome)
    return outcomes


def _hyperband_runs(data: Dataset, space: SearchSpace, seed: int) -> list[Outcome]:
    strategy = make_strategy("Hyperband", space, objective_type="Minimize", seed=seed + 2000,
                             max_jobs=HYPERBAND_TRIALS, hyperband=HYPERBAND, resource_name="num_round")
    if not isinstance(strategy, HyperbandStrategy):
        raise TypeError("make_strategy('Hyperband') returned another strategy")
    outcomes = []
    while (suggestion := strategy.suggest()) is not None:
        trial = suggestion.trial_id
        hyperparameters = dict(suggestion.hyperparameters)
        rounds = int(hyperparameters.pop("num_round"))  # the budget Hyperband gives the trial

        def report(used: int, value: float, trial: str = trial) -> bool:
            return strategy.report(trial, used, value) is Decision.STOP

        outcome = data.trial(hyperparameters, report, rounds)
        strategy.observe(trial, outcome.objective)
        outcomes.append(outcome)
    return outcomes


def _gap(best: float, reference: float) -> float:
    """How much worse ``best`` is than ``reference``, relative (minimizing; < 0 is better)."""
    return (best - reference) / abs(reference)


def _row(measure: str, sagebox: str, reference: str, ratio: str, target: str, met: bool) -> dict[str, str]:
    return {"measure": measure, "sagebox": sagebox, "reference": reference, "ratio": ratio,
            "target": target, "met": "yes" if met else "no"}


def _bayesian_row(name: str, reached: list[float], *, per_seed: bool = True) -> dict[str, str]:
    median = statistics.median(reached)
    shown = f"> {RANDOM_TRIALS}" if math.isinf(median) else f"{median:g}"
    within = sum(r <= BAYESIAN_TARGET_TRIALS for r in reached)
    detail = (
        "per seed: " + ", ".join(f"> {RANDOM_TRIALS}" if math.isinf(r) else f"{r:g}" for r in reached)
        if per_seed
        else f"within {BAYESIAN_TARGET_TRIALS} in {within} of {len(reached)} runs"
    )
    return _row(f"Bayesian: trials to reach random's best of {RANDOM_TRIALS} ({name}; median over seeds)",
                f"{shown} trials ({detail})", f"{RANDOM_TRIALS} trials (random search)",
                "-" if math.isinf(median) else f"{median / RANDOM_TRIALS:.2f}x",
                f"<= {BAYESIAN_TARGET_TRIALS} trials", median <= BAYESIAN_TARGET_TRIALS)


@dataclass
class SeedResult:
    reached: float  # Bayesian: trials to reach random's best
    hyperband_gap: float = math.nan
    hyperband_share: float = math.nan
    stopping_gap: float = math.nan
    stopping_saved: float = math.nan


def _measure(name: str, seed: int) -> SeedResult:
    """Every measure for one dataset and seed (runs in a worker process)."""
    if name == "synthetic":
        space = SearchSpace.from_api(SYNTHETIC_RANGES)
        random = make_strategy("Random", space, objective_type="Minimize", seed=seed, max_jobs=RANDOM_TRIALS)
        return SeedResult(_bayesian_reach(space, seed, _synthetic, min(_search(random, RANDOM_TRIALS, _synthetic))))
    data, space = _dataset(name), SearchSpace.from_api(XGBOOST_RANGES)
    full = _random_runs(data, space, seed, None)
    reference = min(o.objective for o in full)
    full_rounds = sum(o.rounds for o in full)
    hyperband = _hyperband_runs(data, space, seed)
    stopped = _random_runs(data, space, seed, MedianStoppingRule("Minimize"))
    return SeedResult(
        reached=_bayesian_reach(space, seed, data.objective, reference),
        hyperband_gap=_gap(min(o.objective for o in hyperband), reference),
        hyperband_share=sum(o.rounds for o in hyperband) / full_rounds,
        stopping_gap=_gap(min(o.objective for o in stopped), reference),
        stopping_saved=1 - sum(o.rounds for o in stopped) / full_rounds,
    )


def _hyperband_row(name: str, results: list[SeedResult]) -> dict[str, str]:
    gap = statistics.median(r.hyperband_gap for r in results)
    share = statistics.median(r.hyperband_share for r in results)
    return _row(
        f"Hyperband: best objective and training rounds vs full-budget random search ({name}; median over seeds)",
        f"{gap:+.2%} objective, {share:.2f}x rounds ({HYPERBAND_TRIALS} trials)",
        f"best of {RANDOM_TRIALS} random trials x {ROUNDS} rounds", f"{share:.2f}x",
        f"within {OBJECTIVE_TOLERANCE:.0%} at <= {ROUNDS_SHARE_TARGET:.2f}x rounds",
        gap <= OBJECTIVE_TOLERANCE and share <= ROUNDS_SHARE_TARGET)


def _stopping_row(name: str, results: list[SeedResult]) -> dict[str, str]:
    gap = statistics.median(r.stopping_gap for r in results)
    saved = statistics.median(r.stopping_saved for r in results)
    return _row(
        f"Early stopping (median rule): rounds saved and best objective ({name}; median over seeds)",
        f"{saved:.0%} rounds saved, {gap:+.2%} objective",
        f"the same {RANDOM_TRIALS} random trials without early stopping", f"{1 - saved:.2f}x",
        f">= {ROUNDS_SAVED_TARGET:.0%} saved, <= {OBJECTIVE_TOLERANCE:.0%} worse",
        saved >= ROUNDS_SAVED_TARGET and gap <= OBJECTIVE_TOLERANCE)


def run() -> dict[str, Any]:
    started = time.perf_counter()
    names = (*DATASETS, "synthetic")
    tasks = [(name, seed) for name in names for seed in SEEDS]
    workers = max(1, min(os.cpu_count() or 1, 4))
    # Trials are seeded and xgboost runs single-threaded, so the figures do not depend
    # on how the (dataset, seed) tasks are spread over processes.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        outcomes = list(pool.map(_measure, *zip(*tasks, strict=True)))
    results = {name: [r for (n, _), r in zip(tasks, outcomes, strict=True) if n == name] for name in names}
    rows = [_bayesian_row(name, [r.reached for r in results[name]]) for name in names]
    pooled = [r.reached for name in names for r in results[name]]
    rows.append(_bayesian_row("all four objectives pooled", pooled, per_seed=False))
    rows.extend(_hyperband_row(name, results[name]) for name in DATASETS)
    rows.extend(_stopping_row(name, results[name]) for name in DATASETS)
    elapsed = time.perf_counter() - started
    return {
        "name": "tuning_efficiency",
        "rows": rows,
        "notes": (
            f"Strategies driven directly, trials one at a time, with xgboost.train in-process as the training job "
            f"({ROUNDS} rounds; objective: the validation metric after the last round; 70/30 split) on "
            f"scikit-learn's breast_cancer (logloss), diabetes (RMSE) and wine (mlogloss), plus a synthetic "
            f"function (Branin + log-scale bowl + integer parabola) for the Bayesian rows; {len(SEEDS)} seeds; "
            f"5 tuned ranges (eta Logarithmic, min_child_weight Auto, subsample, lambda Auto, max_depth). "
            f"Hyperband: MinResource {HYPERBAND['MinResource']}, MaxResource {ROUNDS}, eta 3, "
            f"{HYPERBAND_TRIALS} configurations. Early stopping: MedianStoppingRule defaults on the same "
            f"{RANDOM_TRIALS} random configurations. On diabetes the best configurations have the smallest "
            f"learning rates, which trail after a few rounds, so successive halving stops them at the first rung. "
            f"{workers} worker processes; took {elapsed:.0f} s."
        ),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
