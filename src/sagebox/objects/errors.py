"""Object store errors, one class per S3 error code, carrying S3's HTTP status."""

from __future__ import annotations

from typing import ClassVar


class ObjectStoreError(Exception):
    """An object store operation failed the way S3 fails it.

    `code` is S3's error code (e.g. "NoSuchKey"), `status` the HTTP status S3 answers
    with, `resource` the bucket, key or upload id the error is about.
    """

    code: str = "InternalError"
    status: int = 500
    default_message: ClassVar[str] = "We encountered an internal error. Please try again."

    def __init__(self, message: str | None = None, *, resource: str = "") -> None:
        self.message = message or self.default_message
        self.resource = resource
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f" ({self.resource})" if self.resource else ""
        return f"{self.code}: {self.message}{where}"


class UnknownObjectStoreError(ObjectStoreError):
    """An error code this module has no class for (from a remote S3 service)."""

    def __init__(self, code: str, message: str, status: int, *, resource: str = "") -> None:
        super().__init__(message, resource=resource)
        self.code = code
        self.status = status


class NoSuchBucket(ObjectStoreError):
    code = "NoSuchBucket"
    status = 404
    default_message = "The specified bucket does not exist"


class NoSuchKey(ObjectStoreError):
    code = "NoSuchKey"
    status = 404
    default_message = "The specified key does not exist."


class NoSuchUpload(ObjectStoreError):
    code = "NoSuchUpload"
    status = 404
    default_message = (
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed."
    )


class BucketAlreadyOwnedByYou(ObjectStoreError):
    code = "BucketAlreadyOwnedByYou"
    status = 409
    default_message = (
        "Your previous request to create the named bucket succeeded and you already own it."
    )


class BucketAlreadyExists(ObjectStoreError):
    code = "BucketAlreadyExists"
    status = 409
    default_message = (
        "The requested bucket name is not available. The bucket namespace is shared by all "
        "users of the system. Please select a different name and try again."
    )


class BucketNotEmpty(ObjectStoreError):
    code = "BucketNotEmpty"
    status = 409
    default_message = "The bucket you tried to delete is not empty"


class InvalidBucketName(ObjectStoreError):
    code = "InvalidBucketName"
    status = 400
    default_message = "The specified bucket is not valid."


class InvalidArgument(ObjectStoreError):
    code = "InvalidArgument"
    status = 400
    default_message = "Invalid Argument"


class InvalidRequest(ObjectStoreError):
    code = "InvalidRequest"
    status = 400
    default_message = "Invalid Request"


class KeyTooLongError(ObjectStoreError):
    code = "KeyTooLongError"
    status = 400
    default_message = "Your key is too long"


class InvalidPart(ObjectStoreError):
    code = "InvalidPart"
    status = 400
    default_message = (
        "One or more of the specified parts could not be found. The part may not have been "
        "uploaded, or the specified entity tag may not have matched the part's entity tag."
    )


class InvalidPartOrder(ObjectStoreError):
    code = "InvalidPartOrder"
    status = 400
    default_message = (
        "The list of parts was not in ascending order. The parts list must be specified in "
        "order by part number."
    )


class EntityTooSmall(ObjectStoreError):
    code = "EntityTooSmall"
    status = 400
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class InvalidRange(ObjectStoreError):
    code = "InvalidRange"
    status = 416
    default_message = "The requested range is not satisfiable"


class BadDigest(ObjectStoreError):
    code = "BadDigest"
    status = 400
    default_message = "The Content-MD5 you specified did not match what we received."


class InvalidDigest(ObjectStoreError):
    code = "InvalidDigest"
    status = 400
    default_message = "The Content-MD5 you specified is not valid."


class MalformedXML(ObjectStoreError):
    code = "MalformedXML"
    status = 400
    default_message = (
        "The XML you provided was not well-formed or did not validate against our published schema"
    )


class PreconditionFailed(ObjectStoreError):
    code = "PreconditionFailed"
    status = 412
    default_message = "At least one of the pre-conditions you specified did not hold"


class AccessDenied(ObjectStoreError):
    code = "AccessDenied"
    status = 403
    default_message = "Access Denied"


class NotImplementedByStore(ObjectStoreError):
    """S3's NotImplemented: the request asks for functionality this store lacks."""

    code = "NotImplemented"
    status = 501
    default_message = "A header you provided implies functionality that is not implemented"


_BY_CODE: dict[str, type[ObjectStoreError]] = {
    cls.code: cls
    for cls in (
        NoSuchBucket,
        NoSuchKey,
        NoSuchUpload,
        BucketAlreadyOwnedByYou,
        BucketAlreadyExists,
        BucketNotEmpty,
        InvalidBucketName,
        InvalidArgument,
        InvalidRequest,
        KeyTooLongError,
        InvalidPart,
        InvalidPartOrder,
        EntityTooSmall,
        InvalidRange,
        BadDigest,
        InvalidDigest,
        MalformedXML,
        PreconditionFailed,
        AccessDenied,
        NotImplementedByStore,
    )
}


def error_for_code(
    code: str, message: str | None = None, *, status: int = 400, resource: str = ""
) -> ObjectStoreError:
    """The ObjectStoreError subclass instance for an S3 error code."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return UnknownObjectStoreError(code, message or code, status, resource=resource)
    return cls(message or None, resource=resource)
