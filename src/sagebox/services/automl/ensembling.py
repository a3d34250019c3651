"""ENSEMBLING mode's TrainingModels step: the training jobs SageMaker shows for it.

One training job per base model (layer 1, k-fold bagged; its out-of-fold predictions saved
with its model), then, when the time left allows it, one per stacker model (layer 2: bagged on
the same folds over the features plus the layer-1 out-of-fold predictions), then one for the
weighted ensemble over both layers (greedy selection on the out-of-fold predictions). Each is an ordinary training job on the ``autogluon-training`` image
(`algorithms/automl_ensemble`), linked to the AutoML job, listed by ListTrainingJobs, with
its logs and metrics; each is a candidate. Job names are fixed by the AutoML job, so a run
restarted after a server restart finds the jobs already made.

The time budget: the base models share what is left of MaxAutoMLJobRuntimeInSeconds less a
reserve for the ensemble and one for layer 2, in as many waves as the job slots need (fewer
models when the budget is too short for all); layer 2 takes what is left after layer 1 less
the ensemble's reserve, and is skipped (the ensemble job's log says so) when that is too
short. Each job also stops itself (`time_limit`) before MaxRuntimePerTrainingJobInSeconds,
which ends it for good.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from sagebox.algorithms.automl_ensemble.spec import (
    ENSEMBLE,
    INFERENCE_REPOSITORY,
    TRAINING_REPOSITORY,
)
from sagebox.analysis.automl import ensembles

AUTOGLUON_ACCOUNT = "763104351884"
AUTOGLUON_TAG = "1.1-cpu-py311"
SHORT_NAMES = {
    "lightgbm": "lgbm",
    "catboost": "cat",
    "xgboost": "xgb",
    "randomforest": "rf",
    "extra-trees": "xt",
    "linear-learner": "lin",
    ensembles.MLP: "nn",
    ensembles.LIGHTGBM_XT: "lgbmxt",
    ensembles.LIGHTGBM_LARGE: "lgbmlg",
    ensembles.RANDOMFOREST_ENTROPY: "rfe",
    ensembles.EXTRA_TREES_ENTROPY: "xte",
}
FOLDS = 5
SEED = 0
ENSEMBLE_RESERVE = 0.1
"""The share of the remaining time kept for the ensemble job (and the end of the job)."""
MIN_ENSEMBLE_SECONDS = 12
LIMIT_MARGIN = 0.9
"""A job's own time limit is this share of what it may take: loading, saving and upload fit in the rest."""
JOB_OVERHEAD = 6.0
"""Seconds a training job spends besides training (start, imports, staging, upload), measured
on a busy two-core machine."""
MIN_TRAINING_SECONDS = 3.0
"""Fewer base models run when each would get less than this to train."""
STACK_RESERVE = 0.2
"""The share of the remaining time layer 1 leaves for layer 2, when that share is long enough."""
MIN_STACK_SECONDS = JOB_OVERHEAD + MIN_TRAINING_SECONDS
"""Layer 2 runs only when each of its jobs gets at least this much."""
MIN_VARIANT_SECONDS = 20.0
"""A variant base model (ensembles.VARIANTS) that needs a wave of its own runs only when every
base model still gets this much to train; one that fills an idle slot of the last wave runs
whenever the family models run."""


def training_image(region: str) -> str:
    return (
        f"{AUTOGLUON_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{TRAINING_REPOSITORY}:{AUTOGLUON_TAG}"
    )


def inference_image(region: str) -> str:
    return (
        f"{AUTOGLUON_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{INFERENCE_REPOSITORY}:{AUTOGLUON_TAG}"
    )


def is_ensembling_image(image: str) -> bool:
    repository = image.rpartition("/")[2].partition(":")[0]
    return repository in (TRAINING_REPOSITORY, INFERENCE_REPOSITORY)


STACKER = "l2:"
"""Prefix of the layer-2 models' keys in `job_names` (``l2:lightgbm``)."""


def job_names(name: str, arn: str, algorithms: tuple[str, ...]) -> dict[str, str]:
    """The training job names, in training order: the base models' by base model (every
    variant's too, whatever the problem type: which of them run is the planner's choice), the
    stackers' under ``l2:<model>``, the ensemble's under ENSEMBLE (named as AutoGluon names
    its levels: ``-l1`` and ``-l2`` models, the ``-l3`` weighted ensemble)."""
    digest = hashlib.sha1(arn.encode()).hexdigest()[:8]
    prefix = f"{name[:40].rstrip('-')}-{digest}"
    base = ensembles.base_models(algorithms)
    names = {a: f"{prefix}-{SHORT_NAMES[a]}-l1" for a in base}
    for a in ensembles.stacker_models(base):
        names[f"{STACKER}{a}"] = f"{prefix}-{SHORT_NAMES[a]}-l2"
    names[ENSEMBLE] = f"{prefix}-we-l3"
    return names


def layer_one(names: dict[str, str]) -> dict[str, str]:
    return {a: n for a, n in names.items() if a != ENSEMBLE and not a.startswith(STACKER)}


def layer_two(names: dict[str, str]) -> dict[str, str]:
    return {a.removeprefix(STACKER): n for a, n in names.items() if a.startswith(STACKER)}


def stack_reserve(remaining: float) -> float:
    """What layer 1 leaves for layer 2: STACK_RESERVE of the time, when that is long enough."""
    share = STACK_RESERVE * remaining
    return share if share >= MIN_STACK_SECONDS else 0.0


def plan_stackers(
    remaining: float, per_job: int, stackers: tuple[str, ...], slots: int
) -> tuple[tuple[str, ...], float, str | None]:
    """Which layer-2 models run with `remaining` seconds left after layer 1, the seconds each
    may train, and why layer 2 is skipped (None when it runs): they share the time less the
    ensemble's reserve, in waves of `slots` jobs; the last ones are left out when each would
    get under MIN_TRAINING_SECONDS."""
    available = remaining - MIN_ENSEMBLE_SECONDS
    count = len(stackers)
    while count:
        share = available / math.ceil(count / max(1, slots)) - JOB_OVERHEAD
        if share >= MIN_TRAINING_SECONDS:
            return stackers[:count], max(1.0, LIMIT_MARGIN * min(float(per_job), share)), None
        count -= 1
    return (
        (),
        0.0,
        f"Layer 2 (stacking) was skipped: {max(0.0, remaining):.0f} s of "
        "MaxAutoMLJobRuntimeInSeconds were left after layer 1, too few for a stacker model "
        "and the ensemble.",
    )


def plan_base_models(
    remaining: float,
    per_job: int,
    algorithms: tuple[str, ...],
    slots: int,
    problem_type: str | None = None,
) -> tuple[tuple[str, ...], float]:
    """Which base models run and the seconds each may train. They share the time left less a
    reserve for the ensemble and one for layer 2 (`stack_reserve`), in waves of `slots` jobs,
    each wave paying JOB_OVERHEAD; the last models in training order are left out (as
    AutoGluon skips models it has no time for), down to one: a family's model when a model
    would get under MIN_TRAINING_SECONDS, a variant when it adds a wave and a model would get
    under MIN_VARIANT_SECONDS (the variants never take time from the family models on short
    budgets). Each stays under MaxRuntimePerTrainingJobInSeconds."""
    models = ensembles.base_models(algorithms, problem_type)
    available = (
        remaining
        - max(MIN_ENSEMBLE_SECONDS, ENSEMBLE_RESERVE * remaining)
        - stack_reserve(remaining)
    )
    slots = max(1, slots)
    families = sum(1 for m in models if m not in ensembles.VARIANTS)
    count = len(models)
    while True:
        waves = math.ceil(count / slots)
        share = available / waves - JOB_OVERHEAD
        extra_wave = count > families and waves > math.ceil(families / slots)
        needed = MIN_VARIANT_SECONDS if extra_wave else MIN_TRAINING_SECONDS
        if count == 1 or share >= needed:
            break
        count -= 1
    return models[:count], max(1.0, LIMIT_MARGIN * min(float(per_job), share))


def request(
    *,
    job_name: str,
    algorithm: str,
    analysis: dict[str, Any],
    layout: dict[str, str],
    role_arn: str,
    region: str,
    max_runtime: int,
    time_limit: float,
    base_jobs: list[str] | None = None,
    stack_level: int = 1,
    notes: str = "",
) -> dict[str, Any]:
    """CreateTrainingJob for a base model (`algorithm`), a stacker (`stack_level` 2, over the
    layer-1 `base_jobs`) or the ensemble (ENSEMBLE, over `base_jobs`). `notes` go to the
    job's log."""

    def channel(name: str, uri: str) -> dict[str, Any]:
        return {
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }

    hyperparameters = {
        "algorithm": algorithm,
        "problem_type": analysis["problem_type"],
        "objective": analysis["objective"],
        "num_classes": str(len(analysis["classes"])),
        "folds": str(FOLDS),
        "seed": str(SEED),
        "time_limit": f"{time_limit:.1f}",
    }
    channels = [
        channel("train", f"{layout['preprocessed']}/train/"),
        channel("validation", f"{layout['preprocessed']}/validation/"),
    ]
    if analysis.get("sample_weight"):
        hyperparameters["sample_weights"] = "1"
    if notes:
        hyperparameters["notes"] = notes[:2500]
    output = f"{layout['ensembling']}/base-models"
    if algorithm == ENSEMBLE or stack_level == 2:
        hyperparameters["base_models"] = ",".join(base_jobs or [])
        channels.append(channel("models", f"{layout['ensembling']}/base-models/"))
    if stack_level == 2:
        hyperparameters["stack_level"] = "2"
    if algorithm == ENSEMBLE:
        output = f"{layout['ensembling']}/ensembles"
    return {
        "TrainingJobName": job_name,
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {
            "TrainingImage": training_image(region),
            "TrainingInputMode": "File",
        },
        "RoleArn": role_arn,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.4xlarge",
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max(1, int(max_runtime))},
    }
