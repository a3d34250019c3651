"""`s3://bucket/key` URIs and S3's bucket naming rules."""

from __future__ import annotations

import ipaddress
import re

from sagebox.objects.errors import InvalidBucketName

_BUCKET_CHARACTERS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "a/b") for "s3://bucket/a/b"; "s3://bucket" and "s3://bucket/" give key ""."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(f"expected an S3 URI of the form s3://bucket/key, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"the S3 URI {uri!r} names no bucket; expected s3://bucket/key")
    return bucket, key


def s3_uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"


def bucket_name_problem(name: str) -> str | None:
    """Why `name` breaks S3's general purpose bucket naming rules, or None when it is valid."""
    if not 3 <= len(name) <= 63:
        return "Bucket names must be between 3 (min) and 63 (max) characters long."
    if _BUCKET_CHARACTERS.fullmatch(name) is None:
        return (
            "Bucket names can consist only of lowercase letters, numbers, periods (.) and "
            "hyphens (-), and must begin and end with a letter or number."
        )
    if ".." in name:
        return "Bucket names must not contain two adjacent periods."
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "Bucket names must not be formatted as an IP address."
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "Bucket names must not use a prefix or suffix reserved by S3."
    return None


def validate_bucket_name(name: str) -> None:
    """Raises InvalidBucketName when `name` breaks S3's bucket naming rules."""
    problem = bucket_name_problem(name)
    if problem is not None:
        raise InvalidBucketName(f"The specified bucket is not valid. {problem}", resource=name)
