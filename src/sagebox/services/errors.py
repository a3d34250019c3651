"""Domain errors raised by services; the edge turns each into its AWS error shape."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service reports to a caller.

    `code` is the AWS error code the edge answers with.
    """

    code = "ValidationException"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    code = "ValidationException"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"


class ResourceInUse(ServiceError):
    code = "ResourceInUse"


class ResourceLimitExceeded(ServiceError):
    code = "ResourceLimitExceeded"


class ConflictError(ServiceError):
    code = "ConflictException"


class InvocationError(ServiceError):
    """A sagemaker-runtime error: its own codes, HTTP statuses and extra members."""

    code = "ValidationError"
    status = 400

    def __init__(self, message: str, **members: object) -> None:
        super().__init__(message)
        self.members = {k: v for k, v in members.items() if v is not None}


class InvocationValidationError(InvocationError):
    code = "ValidationError"
    status = 400


class ModelError(InvocationError):
    code = "ModelError"
    status = 424


class ModelNotReady(InvocationError):
    code = "ModelNotReadyException"
    status = 429


class ThrottlingError(InvocationError):
    code = "ThrottlingException"
    status = 429
