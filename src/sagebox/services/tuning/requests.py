"""CreateHyperParameterTuningJob beyond the model's constraints, and the trials' requests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sagebox.algorithms.registry import AlgorithmSpec, resolve, supported_images
from sagebox.services.errors import ValidationError
from sagebox.services.training.requests import check_spot, resolve_script
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
class DefinitionPlan:
    """One training job definition of a tuning job: what its trials run and what is tuned."""

    name: str | None  # DefinitionName (TrainingJobDefinitions only)
    definition: dict[str, Any]
    algorithm: AlgorithmSpec | None  # None for a training script in a framework image
    space: SearchSpace
    objective_type: str
    metric_name: str
    resource_name: str | None  # the hyperparameter Hyperband sets
    hyperband: dict[str, Any] | None
    max_jobs: int  # this definition's share of MaxNumberOfTrainingJobs


@dataclass(frozen=True)
class TuningPlan:
    definitions: tuple[DefinitionPlan, ...]
    strategy: str
    objective_type: str
    max_jobs: int
    max_parallel: int
    max_runtime: int | None
    early_stopping: bool
    seed: int | None
    completion: dict[str, Any] | None

    def definition_named(self, name: str | None) -> DefinitionPlan:
        for plan in self.definitions:
            if plan.name == name:
                return plan
        return self.definitions[0]


def check_warm_start(config: dict[str, Any] | None) -> None:
    """Every parent of a warm start names its tuning job (the model leaves the name optional)."""
    for index, parent in enumerate((config or {}).get("ParentHyperParameterTuningJobs") or []):
        if not parent.get("HyperParameterTuningJobName"):
            raise ValidationError(
                f"WarmStartConfig.ParentHyperParameterTuningJobs[{index}]: HyperParameterTuningJobName is required."
            )


def plan_tuning(request: dict[str, Any], *, max_parallel_limit: int = DEFAULT_MAX_PARALLEL_LIMIT) -> TuningPlan:
    check_warm_start(request.get("WarmStartConfig"))
    config = request["HyperParameterTuningJobConfig"]
    strategy = config["Strategy"]
    early = config.get("TrainingJobEarlyStoppingType", "Off") == "Auto"
    if strategy == "Hyperband" and early:
        raise ValidationError("TrainingJobEarlyStoppingType must be Off with the Hyperband strategy, which stops trials itself.")
    several = _definitions(request)
    drafts = [_plan_definition(config, definition, strategy, len(several) > 1) for definition in several]
    types = {draft.objective_type for draft in drafts}
    if len(types) > 1:
        raise ValidationError(
            "TrainingJobDefinitions: every TuningObjective must have the same Type so that trials can be "
            f"compared; given {', '.join(sorted(types))}."
        )
    limits = config["ResourceLimits"]
    max_jobs = limits.get("MaxNumberOfTrainingJobs")
    max_parallel = limits["MaxParallelTrainingJobs"]
    if max_jobs is None and strategy != "Grid":
        raise ValidationError("ResourceLimits.MaxNumberOfTrainingJobs is required unless the strategy is Grid.")
    if strategy == "Grid":
        shares = [len(draft.space.grid()) for draft in drafts]
        if max_jobs is None:
            max_jobs = sum(shares)
    else:
        shares = [max_jobs // len(drafts) + (i < max_jobs % len(drafts)) for i in range(len(drafts))]
        if min(shares) < 1:
            raise ValidationError(
                f"ResourceLimits.MaxNumberOfTrainingJobs ({max_jobs}) must allow at least one training job for "
                f"each of the {len(drafts)} TrainingJobDefinitions."
            )
    if max_parallel > max_parallel_limit:
        raise ValidationError(
            f"ResourceLimits.MaxParallelTrainingJobs {max_parallel} exceeds the limit of {max_parallel_limit} "
            "parallel training jobs per tuning job."
        )
    if max_parallel > max_jobs:
        raise ValidationError(
            f"ResourceLimits.MaxParallelTrainingJobs ({max_parallel}) cannot exceed MaxNumberOfTrainingJobs ({max_jobs})."
        )
    return TuningPlan(
        definitions=tuple(replace(draft, max_jobs=share) for draft, share in zip(drafts, shares, strict=True)),
        strategy=strategy, objective_type=drafts[0].objective_type, max_jobs=max_jobs, max_parallel=max_parallel,
        max_runtime=limits.get("MaxRuntimeInSeconds"), early_stopping=early, seed=config.get("RandomSeed"),
        completion=config.get("TuningJobCompletionCriteria"),
    )


def _plan_definition(config: dict[str, Any], definition: dict[str, Any], strategy: str, several: bool) -> DefinitionPlan:
    name = definition.get("DefinitionName")
    where = f"TrainingJobDefinition '{name}'" if name else "TrainingJobDefinition"
    spec = definition["AlgorithmSpecification"]
    static = definition.get("StaticHyperParameters") or {}
    check_spot(definition)  # every trial would be refused: CreateHyperParameterTuningJob is
    try:
        script = resolve_script(spec, static)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message}") from exc
    algorithm = None if script else resolve(training_image=spec.get("TrainingImage"), algorithm_name=spec.get("AlgorithmName"))
    if algorithm is None and script is None:
        raise ValidationError(
            f"{where}.AlgorithmSpecification names no algorithm sagebox can run; supported: {supported_images()}, "
            "or a framework image with a training script ('sagemaker_program' in StaticHyperParameters)."
        )
    ranges = definition.get("HyperParameterRanges") or (None if several else config.get("ParameterRanges"))
    if not ranges:
        member = f"{where}.HyperParameterRanges" if several else "HyperParameterTuningJobConfig.ParameterRanges"
        raise ValidationError(f"{member} must name at least one range.")
    try:
        space = SearchSpace.from_api(ranges)
    except TuningConfigError as exc:
        raise ValidationError(f"ParameterRanges: {exc}") from exc
    if strategy == "Grid":
        try:
            space.grid()
        except TuningConfigError as exc:
            raise ValidationError(f"Strategy Grid: {exc}") from exc
    both = sorted(set(static) & set(space.names()))
    if both:
        raise ValidationError(
            f"Hyperparameter '{both[0]}' is both a static hyperparameter and a tuned one; give it in one place only."
        )
    # A script accepts whatever hyperparameters it parses; only a built-in's names are known.
    unknown = [n for n in space.names() if algorithm is not None and n not in algorithm.hyperparameters.names]
    if unknown:
        raise ValidationError(f"ParameterRanges: '{unknown[0]}' is not a hyperparameter of the {algorithm.name} algorithm.")
    objective = definition.get("TuningObjective") or (None if several else config.get("HyperParameterTuningJobObjective"))
    if not objective:
        member = f"{where}.TuningObjective" if several else "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective"
        raise ValidationError(f"{member} is required.")
    metric = objective["MetricName"]
    builtin = algorithm.metric_definitions if algorithm is not None else []
    emitted = {d["Name"] for d in builtin} | {d["Name"] for d in spec.get("MetricDefinitions") or []}
    if metric not in emitted:
        source = f"the {algorithm.name} algorithm or the MetricDefinitions" if algorithm else "the training script's MetricDefinitions"
        listed = f"it emits metrics such as {', '.join(sorted(emitted)[:8])}, ..." if emitted else "none are defined"
        raise ValidationError(f"The objective metric '{metric}' is not emitted by {source}; {listed}")
    resource = hyperband = None
    if strategy == "Hyperband":
        if algorithm is None:
            raise ValidationError(
                f"{where}: Strategy Hyperband sets a built-in algorithm's training rounds or epochs, which a "
                "training script does not declare; use the Bayesian, Random or Grid strategy."
            )
        resource = RESOURCE_HYPERPARAMETERS.get(algorithm.name, "epochs")
        if resource not in algorithm.hyperparameters.names:
            raise ValidationError(
                f"Strategy Hyperband spends training rounds or epochs, and the {algorithm.name} algorithm has no "
                "such hyperparameter; use the Bayesian, Random or Grid strategy."
            )
        if resource in space.names():
            raise ValidationError(f"With the Hyperband strategy '{resource}' is the resource Hyperband sets; do not tune it.")
        hyperband = dict((config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {})
        if "MaxResource" not in hyperband:
            budget = static.get(resource)
            if budget is None:
                raise ValidationError(
                    f"HyperbandStrategyConfig.MaxResource is required unless the static hyperparameter '{resource}' "
                    "gives the most training rounds a trial may use."
                )
            hyperband["MaxResource"] = int(budget)
    return DefinitionPlan(
        name=name, definition=definition, algorithm=algorithm, space=space, objective_type=objective["Type"],
        metric_name=metric, resource_name=resource, hyperband=hyperband, max_jobs=0,
    )


def _definitions(request: dict[str, Any]) -> list[dict[str, Any]]:
    single, several = request.get("TrainingJobDefinition"), request.get("TrainingJobDefinitions")
    if bool(single) == bool(several):
        raise ValidationError("Exactly one of TrainingJobDefinition or TrainingJobDefinitions must be given.")
    if single:
        return [single]
    if len(several) > 1:
        names = [d.get("DefinitionName") for d in several]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise ValidationError(
                "TrainingJobDefinitions: each definition needs a DefinitionName, unique within the tuning job; "
                f"given {names}."
            )
    return list(several)


def trial_request(plan: DefinitionPlan, name: str, tuned: dict[str, str]) -> dict[str, Any]:
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
