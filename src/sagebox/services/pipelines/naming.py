"""Names and ARNs of what pipelines make: executions, callback tokens and the steps' jobs.

An execution's ARN is ``pipeline/<pipeline name, lower-cased>/execution/<id>`` with a
12-character lower-case id; a callback token is 10 letters and digits. A step's job is
named as SageMaker names it, ``pipelines-<execution id>-<step name>-<random>``, cut to
what the kind of job allows (63 characters; 32 for a tuning or AutoML job), made of the characters
a job name may hold, and lower-cased: the name in the job's ARN is lower-cased, and the
SDK (``execution.result()``) describes a step's job by the name it reads from the ARN.
"""

from __future__ import annotations

import re
import secrets
import string

_ID_ALPHABET = string.ascii_lowercase + string.digits
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")
NAME_LIMITS = {"HyperParameterTuningJob": 32, "AutoMLJob": 32}
DEFAULT_NAME_LIMIT = 63


def random_text(length: int, alphabet: str = _ID_ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def execution_id() -> str:
    return random_text(12)


def callback_token() -> str:
    return random_text(10, _TOKEN_ALPHABET)


def pipeline_arn(arn_prefix: str, pipeline_name: str) -> str:
    """`arn_prefix` is ``arn:aws:sagemaker:<region>:<account>:``."""
    return f"{arn_prefix}pipeline/{pipeline_name.lower()}"


def execution_arn(pipeline_arn_text: str, execution: str) -> str:
    return f"{pipeline_arn_text}/execution/{execution}"


def execution_id_of(arn: str) -> str | None:
    """The id at the end of an execution ARN, or None if `arn` is not one."""
    _, marker, rest = arn.rpartition("/execution/")
    return rest if marker and rest and "/" not in rest and ":pipeline/" in arn else None


def pipeline_name_of(arn: str) -> str | None:
    """The (lower-cased) pipeline name in a pipeline or execution ARN."""
    _, marker, rest = arn.partition(":pipeline/")
    return rest.split("/", 1)[0] if marker and rest else None


def job_name(kind: str, execution: str, step: str) -> str:
    """A fresh name for the job (or model) a step makes in an execution."""
    limit = NAME_LIMITS.get(kind, DEFAULT_NAME_LIMIT)
    suffix = random_text(8 if limit > 32 else 9)
    if limit <= 32:
        return f"pipelines-{execution}-{suffix}"[:limit]
    middle = _NOT_NAME.sub("-", step).strip("-").lower() or "step"
    head = f"pipelines-{execution}-"
    room = limit - len(head) - len(suffix) - 1
    return f"{head}{middle[:room].rstrip('-')}-{suffix}"
