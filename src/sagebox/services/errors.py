"""Domain errors raised by services; the edge turns each into its AWS error shape."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service reports to a caller.

    `code` is the AWS error code the edge answers with.
    """

    code = "ValidationException"

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
