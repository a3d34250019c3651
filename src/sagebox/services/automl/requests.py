"""CreateAutoMLJob and CreateAutoMLJobV2 beyond the model's constraints, as one plan.

Both requests come down to an `AutoMLPlan`: where the data is, the target, the problem
type and objective when given, the completion criteria and the mode. What sagebox does
not run is refused here with a ValidationException that says so (the text, image and text
generation problem types, manifests, EMR Serverless). Time series are planned by
`forecast_requests.py`. `settle` fixes the mode of a tabular job (AUTO chooses by the
training data's size) and checks the algorithms against it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sagebox.analysis.automl.problems import OBJECTIVES
from sagebox.objects import ObjectStore, ObjectStoreError, parse_s3_uri
from sagebox.services.errors import ValidationError

# SageMaker's documented defaults (AutoMLJobCompletionCriteria).
DEFAULT_MAX_CANDIDATES = 250
DEFAULT_MAX_RUNTIME_PER_TRAINING_JOB = 86_400
DEFAULT_MAX_JOB_RUNTIME = 2_592_000
DEFAULT_VALIDATION_FRACTION = 0.2
HPO_ALGORITHMS = ("xgboost", "linear-learner", "mlp")
ENSEMBLING_ALGORITHMS = (
    "lightgbm",
    "catboost",
    "xgboost",
    "randomforest",
    "extra-trees",
    "linear-learner",
    "nn-torch",
    "fastai",
)
SAGEBOX_ALGORITHMS = ("xgboost", "linear-learner")
DEFAULT_ALGORITHMS = ("xgboost",)
"""What HYPERPARAMETER_TUNING runs when AlgorithmsConfig is not given (SageMaker would add
linear-learner and mlp); ENSEMBLING runs all of ENSEMBLING_ALGORITHMS."""
AUTO, ENSEMBLING, HYPERPARAMETER_TUNING = "AUTO", "ENSEMBLING", "HYPERPARAMETER_TUNING"
AUTO_ENSEMBLING_BYTES = 100 * 1024 * 1024
"""AUTO mode runs ENSEMBLING on training data smaller than this, HYPERPARAMETER_TUNING on more."""
CONTENT_TYPES = ("text/csv;header=present", "text/csv", "x-application/vnd.amazon+parquet")
_NOT_AVAILABLE = {
    "ImageClassificationJobConfig": "image classification",
    "TextClassificationJobConfig": "text classification",
    "TextGenerationJobConfig": "text generation (LLM fine-tuning)",
}


@dataclass(frozen=True)
class DataChannel:
    channel: str  # training | validation
    uri: str
    content_type: str | None
    compression: str | None


@dataclass(frozen=True)
class AutoMLPlan:
    target: str
    channels: tuple[DataChannel, ...]
    output_path: str
    role_arn: str
    problem_type: str | None
    objective: str | None
    mode: str
    max_candidates: int
    max_runtime_per_training_job: int
    max_job_runtime: int
    validation_fraction: float
    algorithms: tuple[str, ...]
    generate_definitions_only: bool
    deploy: dict[str, Any] = field(default_factory=dict)
    kms_key: str | None = None
    forecast: dict[str, Any] | None = None
    """A time-series job's settings (`forecast_requests.py`); None for tabular jobs."""
    sample_weight: str | None = None
    """SampleWeightAttributeName: the column of per-row weights (not a feature)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoMLPlan:
        channels = tuple(DataChannel(**c) for c in data["channels"])
        return cls(**{**data, "channels": channels, "algorithms": tuple(data["algorithms"])})

    def completion_criteria(self) -> dict[str, int]:
        return {
            "MaxCandidates": self.max_candidates,
            "MaxRuntimePerTrainingJobInSeconds": self.max_runtime_per_training_job,
            "MaxAutoMLJobRuntimeInSeconds": self.max_job_runtime,
        }


def _channels(channels: list[dict[str, Any]], where: str) -> tuple[DataChannel, ...]:
    result = []
    for index, channel in enumerate(channels):
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise ValidationError(
                f"{where}[{index}].DataSource.S3DataSource is required: the S3 location of the data."
            )
        kind = source["S3DataType"]
        if kind != "S3Prefix":
            raise ValidationError(
                f"{where}[{index}].DataSource.S3DataSource.S3DataType '{kind}' is not available in sagebox; "
                "use S3Prefix (a CSV or Parquet file, or a prefix holding them)."
            )
        content_type = channel.get("ContentType")
        if content_type and content_type.replace(" ", "").lower() not in CONTENT_TYPES:
            raise ValidationError(
                f"{where}[{index}].ContentType '{content_type}' is not supported; use "
                "text/csv;header=present or x-application/vnd.amazon+parquet."
            )
        result.append(
            DataChannel(
                channel.get("ChannelType") or "training",
                source["S3Uri"],
                content_type,
                channel.get("CompressionType"),
            )
        )
    kinds = [c.channel for c in result]
    if kinds.count("training") != 1 or kinds.count("validation") > 1:
        raise ValidationError(
            f"{where}: give exactly one training channel and at most one validation channel; "
            f"given ChannelType {kinds}."
        )
    return tuple(result)


def _completion(criteria: dict[str, Any] | None) -> tuple[int, int, int]:
    criteria = criteria or {}
    return (
        int(criteria.get("MaxCandidates") or DEFAULT_MAX_CANDIDATES),
        int(
            criteria.get("MaxRuntimePerTrainingJobInSeconds")
            or DEFAULT_MAX_RUNTIME_PER_TRAINING_JOB
        ),
        int(criteria.get("MaxAutoMLJobRuntimeInSeconds") or DEFAULT_MAX_JOB_RUNTIME),
    )


def _fraction(config: dict[str, Any] | None, where: str) -> float:
    value = (config or {}).get("ValidationFraction")
    if value is None:
        return DEFAULT_VALIDATION_FRACTION
    if not 0 < float(value) < 1:
        raise ValidationError(
            f"{where}.ValidationFraction must be between 0 and 1 (exclusive) to leave rows for both "
            f"training and validation; {value} was given."
        )
    return float(value)


def _mode(mode: str | None) -> str:
    return mode or AUTO


def _algorithms(config: dict[str, Any] | None, where: str) -> tuple[str, ...]:
    """The AutoMLAlgorithms asked for (empty when none); names no mode knows are refused here,
    names the job's mode does not run once the mode is settled (`settle`)."""
    configs = (config or {}).get("AlgorithmsConfig") or []
    if not configs:
        return ()
    if len(configs) != 1:
        raise ValidationError(
            f"{where}.AlgorithmsConfig: give one AutoMLAlgorithmConfig; {len(configs)} given."
        )
    algorithms = tuple(configs[0]["AutoMLAlgorithms"])
    known = set(HPO_ALGORITHMS) | set(ENSEMBLING_ALGORITHMS)
    unknown = [a for a in algorithms if a not in known]
    if unknown:
        raise ValidationError(
            f"{where}.AlgorithmsConfig: {', '.join(repr(a) for a in unknown)} is not an algorithm "
            f"of tabular problems (time-series algorithms go in TimeSeriesForecastingJobConfig). "
            f"ENSEMBLING mode runs {', '.join(ENSEMBLING_ALGORITHMS)}; "
            f"HYPERPARAMETER_TUNING mode runs {', '.join(HPO_ALGORITHMS)}."
        )
    if not algorithms:
        raise ValidationError(f"{where}.AlgorithmsConfig: AutoMLAlgorithms names no algorithm.")
    return algorithms


def _check_algorithms(algorithms: tuple[str, ...], mode: str) -> tuple[str, ...]:
    where = "CandidateGenerationConfig.AlgorithmsConfig"
    if mode == ENSEMBLING:
        if not algorithms:
            return ENSEMBLING_ALGORITHMS
        wrong = [a for a in algorithms if a not in ENSEMBLING_ALGORITHMS]
        if wrong:
            raise ValidationError(
                f"{where}: {', '.join(wrong)} cannot be used in ENSEMBLING mode; "
                f"that mode's algorithms are {', '.join(ENSEMBLING_ALGORITHMS)}."
            )
        return algorithms
    if not algorithms:
        return DEFAULT_ALGORITHMS
    wrong = [a for a in algorithms if a not in HPO_ALGORITHMS]
    if wrong:
        raise ValidationError(
            f"{where}: {', '.join(wrong)} cannot be used in HYPERPARAMETER_TUNING mode; "
            f"that mode's algorithms are {', '.join(HPO_ALGORITHMS)}."
        )
    missing = [a for a in algorithms if a not in SAGEBOX_ALGORITHMS]
    if missing:
        raise ValidationError(
            f"{where}: {', '.join(missing)} is not available in sagebox's HYPERPARAMETER_TUNING "
            f"mode yet; its candidates use {', '.join(SAGEBOX_ALGORITHMS)} (ENSEMBLING mode has "
            "an MLP)."
        )
    return algorithms


def data_size(plan: AutoMLPlan, objects: ObjectStore) -> int:
    """The bytes of the training channel's objects."""
    training = next(c for c in plan.channels if c.channel == "training")
    return sum(int(o.size) for o in objects.iter_objects(training.uri))


def settle(plan: AutoMLPlan, objects: ObjectStore) -> AutoMLPlan:
    """The plan with its mode settled (AUTO: ENSEMBLING below 100 MB of training data,
    HYPERPARAMETER_TUNING above, as SageMaker documents it, and for definitions-only jobs) and its algorithms checked
    against that mode (the mode's default algorithms when none were named). A time-series
    plan has no mode; its algorithms were checked by `forecast_requests.py`."""
    if plan.forecast is not None:
        return plan
    mode = plan.mode
    if plan.generate_definitions_only and mode == ENSEMBLING:
        # Autopilot documents GenerateCandidateDefinitionsOnly as its candidate definition
        # notebook alone: the preprocessors, algorithms, hyperparameter ranges and tuning jobs
        # of HYPERPARAMETER_TUNING mode. ENSEMBLING trains its models in one pass, with no
        # candidate definitions to hand over before training.
        raise ValidationError(
            "GenerateCandidateDefinitionsOnly is supported in HYPERPARAMETER_TUNING mode only: "
            "Mode ENSEMBLING trains its candidates without candidate definitions to generate. "
            "Use Mode HYPERPARAMETER_TUNING (or AUTO) with GenerateCandidateDefinitionsOnly, or "
            "leave GenerateCandidateDefinitionsOnly false."
        )
    if mode == AUTO:
        small = data_size(plan, objects) < AUTO_ENSEMBLING_BYTES
        # Only HYPERPARAMETER_TUNING generates candidate definitions (see above).
        ensembling = small and not plan.generate_definitions_only
        mode = ENSEMBLING if ensembling else HYPERPARAMETER_TUNING
    algorithms = _check_algorithms(plan.algorithms, mode)
    if plan.sample_weight and mode == HYPERPARAMETER_TUNING and algorithms != ("xgboost",):
        # XGBoost reads a weight column (csv_weights); the Linear Learner's CSV has no place for one.
        raise ValidationError(
            f"SampleWeightAttributeName '{plan.sample_weight}': in HYPERPARAMETER_TUNING mode sample "
            f"weights are used by xgboost candidates only; AlgorithmsConfig gives {', '.join(algorithms)}. "
            "Name xgboost alone, or use ENSEMBLING mode, where every algorithm takes them."
        )
    return replace(plan, mode=mode, algorithms=algorithms)


def _objective(problem_type: str | None, objective: dict[str, Any] | None) -> str | None:
    metric = (objective or {}).get("MetricName")
    if metric is None:
        return None
    tabular = {name for allowed in OBJECTIVES.values() for name in allowed}
    if metric not in tabular:
        raise ValidationError(
            f"AutoMLJobObjective.MetricName '{metric}' is not an objective of tabular problems; "
            f"valid: {', '.join(sorted(tabular))}."
        )
    if problem_type and metric not in OBJECTIVES[problem_type]:
        raise ValidationError(
            f"AutoMLJobObjective.MetricName '{metric}' is not valid for ProblemType {problem_type}; "
            f"valid metrics: {', '.join(OBJECTIVES[problem_type])}."
        )
    return metric


def _deploy(config: dict[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    if config.get("AutoGenerateEndpointName") and config.get("EndpointName"):
        raise ValidationError(
            "ModelDeployConfig: give EndpointName or AutoGenerateEndpointName true, not both."
        )
    if config and not config.get("AutoGenerateEndpointName") and not config.get("EndpointName"):
        raise ValidationError(
            "ModelDeployConfig: EndpointName is required when AutoGenerateEndpointName is false."
        )
    return dict(config)


def check_data(plan: AutoMLPlan, objects: ObjectStore) -> None:
    """Every channel's S3 location holds data (an empty prefix is refused now, not later)."""
    for channel in plan.channels:
        try:
            parse_s3_uri(channel.uri)
            found = next(iter(objects.iter_objects(channel.uri)), None)
        except (ValueError, ObjectStoreError) as exc:
            raise ValidationError(
                f"The {channel.channel} data at {channel.uri} cannot be read: {exc}"
            ) from exc
        if found is None:
            raise ValidationError(
                f"No data found at {channel.uri} (the {channel.channel} channel): the S3 prefix holds no objects."
            )


def plan_v1(request: dict[str, Any]) -> AutoMLPlan:
    channels = request["InputDataConfig"]
    targets = {c["TargetAttributeName"] for c in channels}
    if len(targets) != 1:
        raise ValidationError(
            f"InputDataConfig: every channel must name the same TargetAttributeName; given {sorted(targets)}."
        )
    weights = {c.get("SampleWeightAttributeName") for c in channels}
    if len(weights) != 1:
        raise ValidationError(
            "InputDataConfig: every channel must name the same SampleWeightAttributeName (or none); "
            f"given {sorted(str(w) for w in weights)}."
        )
    config = request.get("AutoMLJobConfig") or {}
    if config.get("AutoMLComputeConfig"):
        raise ValidationError("AutoMLComputeConfig (EMR Serverless) is not available in sagebox.")
    generation = config.get("CandidateGenerationConfig") or {}
    if generation.get("FeatureSpecificationS3Uri"):
        raise ValidationError(
            "CandidateGenerationConfig.FeatureSpecificationS3Uri is not available in sagebox yet."
        )
    problem_type = request.get("ProblemType")
    candidates, per_job, total = _completion(config.get("CompletionCriteria"))
    target, weight = targets.pop(), weights.pop()
    _check_weight(weight, target, "InputDataConfig[].SampleWeightAttributeName")
    return AutoMLPlan(
        target=target,
        channels=_channels(channels, "InputDataConfig"),
        output_path=request["OutputDataConfig"]["S3OutputPath"],
        role_arn=request["RoleArn"],
        problem_type=problem_type,
        objective=_objective(problem_type, request.get("AutoMLJobObjective")),
        mode=_mode(config.get("Mode")),
        max_candidates=candidates,
        max_runtime_per_training_job=per_job,
        max_job_runtime=total,
        validation_fraction=_fraction(
            config.get("DataSplitConfig"), "AutoMLJobConfig.DataSplitConfig"
        ),
        algorithms=_algorithms(generation, "AutoMLJobConfig.CandidateGenerationConfig"),
        generate_definitions_only=bool(request.get("GenerateCandidateDefinitionsOnly")),
        deploy=_deploy(request.get("ModelDeployConfig")),
        kms_key=request["OutputDataConfig"].get("KmsKeyId"),
        sample_weight=weight,
    )


def _check_weight(weight: str | None, target: str, where: str) -> None:
    if weight is not None and weight == target:
        raise ValidationError(
            f"{where} '{weight}' names the target column; the sample weights must be another column."
        )


def problem_config(request: dict[str, Any]) -> str:
    """The one problem type configuration a V2 request gives (TabularJobConfig, ...)."""
    given = [k for k, v in request["AutoMLProblemTypeConfig"].items() if v is not None]
    if len(given) != 1:
        raise ValidationError(
            f"AutoMLProblemTypeConfig: give exactly one problem type configuration; given {given or 'none'}."
        )
    return given[0]


def plan_v2(request: dict[str, Any]) -> AutoMLPlan:
    """A V2 request's plan; time series are planned by `forecast_requests.plan_time_series`."""
    problem = request["AutoMLProblemTypeConfig"]
    given = [problem_config(request)]
    if given[0] in _NOT_AVAILABLE:
        raise ValidationError(
            f"AutoMLProblemTypeConfig.{given[0]}: {_NOT_AVAILABLE[given[0]]} is not available in sagebox; "
            "sagebox runs tabular problems (TabularJobConfig) and time series (TimeSeriesForecastingJobConfig)."
        )
    tabular = problem["TabularJobConfig"]
    weight = tabular.get("SampleWeightAttributeName")
    _check_weight(
        weight, tabular["TargetAttributeName"], "TabularJobConfig.SampleWeightAttributeName"
    )
    if tabular.get("FeatureSpecificationS3Uri"):
        raise ValidationError(
            "TabularJobConfig.FeatureSpecificationS3Uri is not available in sagebox yet."
        )
    if request.get("AutoMLComputeConfig"):
        raise ValidationError("AutoMLComputeConfig (EMR Serverless) is not available in sagebox.")
    problem_type = tabular.get("ProblemType")
    candidates, per_job, total = _completion(tabular.get("CompletionCriteria"))
    return AutoMLPlan(
        target=tabular["TargetAttributeName"],
        channels=_channels(request["AutoMLJobInputDataConfig"], "AutoMLJobInputDataConfig"),
        output_path=request["OutputDataConfig"]["S3OutputPath"],
        role_arn=request["RoleArn"],
        problem_type=problem_type,
        objective=_objective(problem_type, request.get("AutoMLJobObjective")),
        mode=_mode(tabular.get("Mode")),
        max_candidates=candidates,
        max_runtime_per_training_job=per_job,
        max_job_runtime=total,
        validation_fraction=_fraction(request.get("DataSplitConfig"), "DataSplitConfig"),
        algorithms=_algorithms(
            tabular.get("CandidateGenerationConfig"), "TabularJobConfig.CandidateGenerationConfig"
        ),
        generate_definitions_only=bool(tabular.get("GenerateCandidateDefinitionsOnly")),
        deploy=_deploy(request.get("ModelDeployConfig")),
        kms_key=request["OutputDataConfig"].get("KmsKeyId"),
        sample_weight=weight,
    )
