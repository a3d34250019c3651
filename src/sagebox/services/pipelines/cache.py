"""Step caching: which attributes of a step make its cache key, and how long a result lasts.

SageMaker reuses an earlier run of a step when the step's cache-key attributes (the
developer guide's "Default cache key attributes by pipeline step type": for a
processing step AppSpecification, Environment and ProcessingInputs, not the outputs)
are the same as those of a successful run of the same step of the same pipeline within
the CacheConfig's ExpireAfter period. The key is computed over the step's arguments
with every expression resolved, so an upstream step that was itself a cache hit gives
the same inputs again. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

_DURATION = re.compile(
    r"P?(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "years": 365 * 86400,
    "months": 30 * 86400,
    "weeks": 7 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}

KEY_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "Processing": ("AppSpecification", "Environment", "ProcessingInputs"),
    "Training": (
        "AlgorithmSpecification",
        "CheckpointConfig",
        "DebugHookConfig",
        "DebugRuleConfigurations",
        "Environment",
        "HyperParameters",
        "InputDataConfig",
    ),
    "Tuning": ("HyperParameterTuningJobConfig", "TrainingJobDefinition", "TrainingJobDefinitions"),
    "Transform": ("DataProcessing", "Environment", "ModelName", "TransformInput"),
    "AutoML": ("AutoMLJobConfig", "AutoMLJobObjective", "InputDataConfig", "ProblemType"),
}
_TUNING_DEFINITION_ATTRIBUTES = (
    "AlgorithmSpecification",
    "HyperParameterRanges",
    "InputDataConfig",
    "StaticHyperParameters",
    "TuningObjective",
)


def parse_duration(text: Any) -> float:
    """Seconds in an ISO 8601 duration (``PT1H``, ``P30D``; SageMaker also takes ``30d``,
    ``T16m``, ``30dT5h``). A year counts 365 days and a month 30."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT1H or P30D")
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT1H or P30D")
    return float(sum(int(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v))


def key_attributes(step_type: str, arguments: Any) -> dict[str, Any]:
    """The attributes of a step's resolved arguments that decide whether a cached run fits."""
    if not isinstance(arguments, dict):
        return {"Arguments": arguments}
    names = KEY_ATTRIBUTES.get(step_type)
    if names is None:  # Callback, Lambda, EMR, checks: all they are given
        return dict(arguments)
    chosen = {name: arguments[name] for name in names if name in arguments}
    definition = chosen.get("TrainingJobDefinition")
    if step_type == "Tuning" and isinstance(definition, dict):
        chosen["TrainingJobDefinition"] = {
            k: definition[k] for k in _TUNING_DEFINITION_ATTRIBUTES if k in definition
        }
    return chosen


def cache_key(
    pipeline_arn: str, step_name: str, step_type: str, arguments: Any, extra: Any = None
) -> str:
    """The key under which a successful run of this step of this pipeline is found again."""
    material = {
        "pipeline": pipeline_arn,
        "step": step_name,
        "type": step_type,
        "attributes": key_attributes(step_type, arguments),
        "extra": extra,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
