"""CreateHyperParameterTuningJob beyond the model's constraints, and the trials' requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.registry import AlgorithmSpec, resolve
from sagebox.services.errors import ValidationError
from sagebox.tuning.errors import TuningConfigError
from sagebox.tuning.space import SearchSpace

# The hyperparameter Hyperband spends as its resource, per built-in algorithm.
RESOURCE_HYPERPARAMETERS = {"xgboost": "num_round"}
DEFAULT_MAX_PARALLEL_LIMIT = 10
_COPIED = (
    "RoleArn", "InputDataConfig", "VpcConfig", "OutputDataConfig", "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining", "CheckpointConfig",
    "RetryStrategy", "Environment",
)


@dataclass(frozen=True)
class TuningPlan:
    definition: dict[str, Any]
    algorithm: AlgorithmSpec
    space: SearchSpace
    strategy: str
    objective_type: str
    metric_name: str
    max_jobs: int
    max_parallel: int
    max_runtime: int | None
    early_stopping: bool
    hyperband: dict[str, Any] | None
    resource_name: str | None
    seed: int | None
    completion: dict[str, Any] | None


def plan_tuning(request: dict[str, Any], *, max_parallel_limit: int = DEFAULT_MAX_PARALLEL_LIMIT) -> TuningPlan:
    config = request["HyperParameterTuningJobConfig"]
    definition = _definition(request)
    spec = definition["AlgorithmSpecification"]
    algorithm = resolve(training_image=spec.get("TrainingImage"), algorithm_name=spec.get("AlgorithmName"))
    if algorithm is None:
        raise ValidationError(
            "TrainingJobDefinition.AlgorithmSpecification names no algorithm sagebox can run; supported: the "
            "built-in XGBoost (image repository 'sagemaker-xgboost')."
        )
    ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges")
    if not ranges:
        raise ValidationError("HyperParameterTuningJobConfig.ParameterRanges must name at least one range.")
    try:
        space = SearchSpace.from_api(ranges)
    except TuningConfigError as exc:
        raise ValidationError(f"ParameterRanges: {exc}") from exc
    strategy = config["Strategy"]
    if strategy == "Grid":
        try:
            space.grid()
        except TuningConfigError as exc:
            raise ValidationError(f"Strategy Grid: {exc}") from exc
    static = definition.get("StaticHyperParameters") or {}
    both = sorted(set(static) & set(space.names()))
    if both:
        raise ValidationError(
            f"Hyperparameter '{both[0]}' is both a static hyperparameter and a tuned one; give it in one place only."
        )
    unknown = [n for n in space.names() if n not in algorithm.hyperparameters.names]
    if unknown:
        raise ValidationError(f"ParameterRanges: '{unknown[0]}' is not a hyperparameter of the {algorithm.name} algorithm.")
    objective = definition.get("TuningObjective") or config.get("HyperParameterTuningJobObjective")
    if not objective:
        raise ValidationError("HyperParameterTuningJobConfig.HyperParameterTuningJobObjective is required.")
    metric = objective["MetricName"]
    emitted = {d["Name"] for d in algorithm.metric_definitions} | {d["Name"] for d in spec.get("MetricDefinitions") or []}
    if metric not in emitted:
        raise ValidationError(
            f"The objective metric '{metric}' is not emitted by the {algorithm.name} algorithm or the "
            f"MetricDefinitions; it emits metrics such as {', '.join(sorted(emitted)[:8])}, ..."
        )
    limits = config["ResourceLimits"]
    max_jobs = limits.get("MaxNumberOfTrainingJobs")
    max_parallel = limits["MaxParallelTrainingJobs"]
    if max_jobs is None and strategy != "Grid":
        raise ValidationError("ResourceLimits.MaxNumberOfTrainingJobs is required unless the strategy is Grid.")
    if max_jobs is None:
        max_jobs = len(space.grid())
    if max_parallel > max_parallel_limit:
        raise ValidationError(
            f"ResourceLimits.MaxParallelTrainingJobs {max_parallel} exceeds the limit of {max_parallel_limit} "
            "parallel training jobs per tuning job."
        )
    if max_parallel > max_jobs:
        raise ValidationError(
            f"ResourceLimits.MaxParallelTrainingJobs ({max_parallel}) cannot exceed MaxNumberOfTrainingJobs ({max_jobs})."
        )
    early = config.get("TrainingJobEarlyStoppingType", "Off") == "Auto"
    hyperband = ((config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig")) if strategy == "Hyperband" else None
    resource = RESOURCE_HYPERPARAMETERS.get(algorithm.name, "epochs") if strategy == "Hyperband" else None
    if strategy == "Hyperband":
        if early:
            raise ValidationError("TrainingJobEarlyStoppingType must be Off with the Hyperband strategy, which stops trials itself.")
        if resource in space.names():
            raise ValidationError(f"With the Hyperband strategy '{resource}' is the resource Hyperband sets; do not tune it.")
    if strategy == "Hyperband":
        hyperband = dict(hyperband or {})
        if "MaxResource" not in hyperband:
            budget = (definition.get("StaticHyperParameters") or {}).get(resource)
            if budget is None:
                raise ValidationError(
                    f"HyperbandStrategyConfig.MaxResource is required unless the static hyperparameter '{resource}' "
                    "gives the most training rounds a trial may use."
                )
            hyperband["MaxResource"] = int(budget)
    return TuningPlan(
        definition=definition, algorithm=algorithm, space=space, strategy=strategy,
        objective_type=objective["Type"], metric_name=metric, max_jobs=max_jobs, max_parallel=max_parallel,
        max_runtime=limits.get("MaxRuntimeInSeconds"), early_stopping=early, hyperband=hyperband or ({} if resource else None),
        resource_name=resource, seed=config.get("RandomSeed"), completion=config.get("TuningJobCompletionCriteria"),
    )


def _definition(request: dict[str, Any]) -> dict[str, Any]:
    single, several = request.get("TrainingJobDefinition"), request.get("TrainingJobDefinitions")
    if bool(single) == bool(several):
        raise ValidationError("Exactly one of TrainingJobDefinition or TrainingJobDefinitions must be given.")
    if several:
        if len(several) > 1:
            raise ValidationError(
                "TrainingJobDefinitions: tuning several algorithms in one tuning job is not supported by sagebox yet; "
                "give one definition."
            )
        return several[0]
    return single


def trial_request(plan: TuningPlan, name: str, tuned: dict[str, str]) -> dict[str, Any]:
    """The CreateTrainingJob request of one trial."""
    definition = plan.definition
    spec = definition["AlgorithmSpecification"]
    hyperparameters = {**(definition.get("StaticHyperParameters") or {}), **tuned}
    hyperparameters["_tuning_objective_metric"] = plan.metric_name
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {k: v for k, v in spec.items() if v is not None},
        "HyperParameters": hyperparameters,
        "ResourceConfig": definition.get("ResourceConfig") or {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 86400},
    }
    request.update({k: definition[k] for k in _COPIED if definition.get(k) is not None})
    return request
