"""From validated SageMaker hyperparameters to the arguments of ``xgboost.train``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.xgboost.hyperparameters import CONTAINER_ONLY, UNUSED_BY_XGBOOST
from sagebox.algorithms.xgboost.metrics import CONTAINER_METRICS, METRIC_NAMES


class TuningMetricError(ValueError):
    """``_tuning_objective_metric`` names no metric this algorithm emits."""


def available_cpus() -> int:
    """The default ``nthread``: the CPUs this process may run on (its affinity), at most the
    host's ``SM_NUM_CPUS`` (on a Ray node, the CPUs the host reserved, not the node's)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:
        count = os.cpu_count() or 1
    declared = os.environ.get("SM_NUM_CPUS", "")
    if declared.isdigit() and int(declared) > 0:
        count = min(count, int(declared))
    return count


def cuda_available() -> bool:
    import xgboost

    return bool(xgboost.build_info().get("USE_CUDA"))


@dataclass(frozen=True)
class BoosterParams:
    """The ``params`` for ``xgboost.train`` and what was left out of them."""

    params: dict[str, Any]
    ignored: tuple[str, ...]
    notes: tuple[str, ...]


def booster_params(
    values: Mapping[str, Any],
    given: Iterable[str],
    native_metrics: list[str],
    nthread: int | None = None,
) -> BoosterParams:
    """Only the hyperparameters the job set, in xgboost's spelling, plus ``nthread``.

    Hyperparameters xgboost 3 no longer has are left out (listed in ``ignored``);
    ``tree_method=gpu_hist`` becomes ``hist`` on ``device=cuda`` (plain ``hist``
    without a CUDA build of xgboost).
    """
    params: dict[str, Any] = {}
    ignored: list[str] = []
    notes: list[str] = []
    given_names = set(given)
    for name, value in values.items():
        if name not in given_names or name in CONTAINER_ONLY:
            continue
        if name in UNUSED_BY_XGBOOST:
            ignored.append(name)
        elif name == "updater":
            params[name] = ",".join(value)
        elif name == "monotone_constraints":
            params[name] = "(" + ",".join(str(item) for item in value) + ")"
        elif name == "tree_method" and value == "gpu_hist":
            params[name] = "hist"
            if cuda_available():
                params["device"] = "cuda"
            else:
                notes.append(
                    "tree_method 'gpu_hist': no GPU support available; training with 'hist' on CPU"
                )
        else:
            params[name] = value
    if native_metrics:
        params["eval_metric"] = list(native_metrics)
    params.setdefault("nthread", nthread or available_cpus())
    return BoosterParams(params, tuple(ignored), tuple(notes))


@dataclass(frozen=True)
class EvaluationPlan:
    """Which metrics xgboost computes, which the algorithm computes, and which stops early."""

    native: list[str]
    custom: list[str]
    early_stopping_metric: str | None


def tuning_metric_name(raw: str | None) -> str | None:
    """The metric in ``_tuning_objective_metric`` (``validation:auc`` -> ``auc``)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip().strip('"')
    _data_name, _, metric = text.partition(":")
    if metric not in METRIC_NAMES:
        raise TuningMetricError(
            f"_tuning_objective_metric '{raw}' is not a metric of this algorithm; expected "
            "'validation:<metric>' or 'train:<metric>' with <metric> one of "
            + ", ".join(METRIC_NAMES)
        )
    return metric


def evaluation_plan(eval_metric: Iterable[str] | None, tuning_metric: str | None) -> EvaluationPlan:
    """Split the requested metrics; the tuning metric (else the last one) stops early."""
    names = list(eval_metric or ())
    if tuning_metric is not None and tuning_metric not in names:
        names.append(tuning_metric)
    native = [name for name in names if name not in CONTAINER_METRICS]
    custom = [name for name in names if name in CONTAINER_METRICS]
    stopping = tuning_metric or (names[-1] if names else None)
    return EvaluationPlan(native, custom, stopping)
