"""CloudWatch's errors, by the codes its query protocol names them (the JSON and CBOR
protocols answer the shape's name and these codes in ``x-amzn-query-error``)."""

from __future__ import annotations

from sagebox.services.errors import ServiceError


class InvalidParameterValue(ServiceError):
    code = "InvalidParameterValue"


class MissingParameter(ServiceError):
    code = "MissingParameter"


class InvalidParameterCombination(ServiceError):
    code = "InvalidParameterCombination"


class InvalidNextToken(ServiceError):
    code = "InvalidNextToken"
