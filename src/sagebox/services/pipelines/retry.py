"""Retry policies: which failures a step retries, after how long, and until when.

A failure has an exception type, as SageMaker classifies it:

- ``Step.SERVICE_FAULT`` / ``Step.THROTTLING``: the call that starts the step's work
  failed inside the service or was throttled;
- ``SageMaker.RESOURCE_LIMIT``: the job could not be created for a resource limit
  (ResourceLimitExceeded);
- ``SageMaker.JOB_INTERNAL_ERROR`` / ``SageMaker.CAPACITY_ERROR``: the job ran and failed
  with a FailureReason of InternalServerError or CapacityError.

Anything else (a ClientError, an AlgorithmError of the user's code) is not retried. The
first policy that names the type decides: retry k (1-based) comes IntervalSeconds x
BackoffRate^(k-1) after the failure, while fewer than MaxAttempts retries were made, or
while ExpireAfterMin minutes have not passed since the first attempt. As SageMaker does,
service faults and throttling are retried by default (`DEFAULT_POLICY`) when no policy
names them. Pure: no I/O.
"""

from __future__ import annotations

from sagebox.services.pipelines.definition import RetryPolicy

SERVICE_FAULT, THROTTLING = "Step.SERVICE_FAULT", "Step.THROTTLING"
JOB_INTERNAL_ERROR, CAPACITY_ERROR, RESOURCE_LIMIT = (
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)
DEFAULT_POLICY = RetryPolicy(
    (SERVICE_FAULT, THROTTLING), interval_seconds=1.0, backoff_rate=2.0, max_attempts=3
)
_REASON_TYPES = (("InternalServerError", JOB_INTERNAL_ERROR), ("CapacityError", CAPACITY_ERROR))


def failure_type(reason: str | None) -> str | None:
    """The exception type of a job that ended Failed with `reason`, if it is a retryable one."""
    text = (reason or "").lstrip()
    return next((kind for prefix, kind in _REASON_TYPES if text.startswith(prefix)), None)


def policy_for(policies: tuple[RetryPolicy, ...], exception_type: str) -> RetryPolicy | None:
    found = next((p for p in policies if exception_type in p.exception_types), None)
    if found is None and exception_type in DEFAULT_POLICY.exception_types:
        return DEFAULT_POLICY
    return found


def retry_delay(
    policies: tuple[RetryPolicy, ...],
    exception_type: str | None,
    attempts: int,
    first_attempt_at: float,
    now: float,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the step must fail now.

    `attempts` is how many attempts have run (the first included)."""
    if exception_type is None:
        return None
    policy = policy_for(policies, exception_type)
    if policy is None:
        return None
    retries = attempts - 1
    delay = policy.interval_seconds * policy.backoff_rate**retries
    if policy.max_attempts is not None:
        return delay if retries < policy.max_attempts else None
    deadline = first_attempt_at + (policy.expire_after_minutes or 0) * 60
    return delay if now + delay <= deadline else None
