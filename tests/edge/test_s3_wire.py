"""The S3 edge's building blocks: operation matching, addressing, aws-chunked, REST-XML."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from botocore.parsers import RestXMLParser

from sagebox.edge import rest_xml
from sagebox.edge.s3_body import AwsChunkedDecoder, checksum_headers
from sagebox.edge.s3_objects import parse_copy_source, parse_range, precondition_status
from sagebox.edge.s3_wire import bucket_from_host, match_operation
from sagebox.objects import InvalidArgument, InvalidRange, ObjectInfo, ObjectStoreError
from sagebox.service_models import service_model

IMPLEMENTED = {"GetObject", "PutObject", "ListBuckets", "ListObjects", "CopyObject", "UploadPart"}


@pytest.mark.parametrize(
    ("method", "shape", "query", "headers", "expected"),
    [
        ("GET", "service", {}, set(), "ListBuckets"),
        ("PUT", "bucket", {}, set(), "CreateBucket"),
        ("GET", "bucket", {}, set(), "ListObjects"),
        ("GET", "bucket", {"list-type": "2", "prefix": "a"}, set(), "ListObjectsV2"),
        ("GET", "bucket", {"location": ""}, set(), "GetBucketLocation"),
        ("GET", "bucket", {"acl": ""}, set(), "GetBucketAcl"),
        ("POST", "bucket", {"delete": ""}, set(), "DeleteObjects"),
        ("GET", "object", {}, set(), "GetObject"),
        ("GET", "object", {"uploadId": "u"}, set(), "ListParts"),
        ("PUT", "object", {}, set(), "PutObject"),
        ("PUT", "object", {}, {"x-amz-copy-source"}, "CopyObject"),
        ("PUT", "object", {"partNumber": "1", "uploadId": "u"}, set(), "UploadPart"),
        (
            "PUT",
            "object",
            {"partNumber": "1", "uploadId": "u"},
            {"x-amz-copy-source"},
            "UploadPartCopy",
        ),
        ("POST", "object", {"uploads": ""}, set(), "CreateMultipartUpload"),
        ("POST", "object", {"uploadId": "u"}, set(), "CompleteMultipartUpload"),
        ("DELETE", "object", {"uploadId": "u"}, set(), "AbortMultipartUpload"),
        ("DELETE", "object", {}, set(), "DeleteObject"),
        ("PUT", "object", {"tagging": ""}, set(), "PutObjectTagging"),
    ],
)
def test_operations_are_matched_from_the_model(
    method: str, shape: str, query: dict[str, str], headers: set[str], expected: str
) -> None:
    assert match_operation(method, shape, query, headers, IMPLEMENTED) == expected


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("127.0.0.1:4566", None),
        ("localhost:4566", None),
        ("data.localhost:4566", "data"),
        ("my.dotted.bucket.localhost", "my.dotted.bucket"),
        ("data.s3.us-east-1.amazonaws.com", "data"),
        ("data.s3.localhost.localstack.cloud:4566", "data"),
        ("s3.amazonaws.com", None),
        ("[::1]:8080", None),
    ],
)
def test_virtual_hosted_bucket_from_host(host: str, bucket: str | None) -> None:
    assert bucket_from_host(host) == bucket


def _chunked(payload: bytes, trailer: str = "") -> bytes:
    out = b""
    for start in range(0, len(payload), 1000):
        piece = payload[start : start + 1000]
        out += f"{len(piece):x};chunk-signature={'a' * 64}\r\n".encode() + piece + b"\r\n"
    return out + b"0;chunk-signature=" + b"b" * 64 + b"\r\n" + trailer.encode() + b"\r\n"


def test_aws_chunked_decoding_across_arbitrary_splits() -> None:
    payload = bytes(random.Random(7).randrange(256) for _ in range(5000))
    body = _chunked(payload, "x-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:abc\r\n")
    for seed in range(20):
        cuts = sorted(random.Random(seed).sample(range(1, len(body)), 15))
        decoder = AwsChunkedDecoder()
        out = b""
        for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True):
            out += decoder.feed(body[start:end])
        decoder.finish()
        assert out == payload
        assert checksum_headers(decoder.trailers) == {"CRC32": "AAAAAA=="}


def test_aws_chunked_errors() -> None:
    decoder = AwsChunkedDecoder()
    decoder.feed(_chunked(b"x" * 3000)[:1500])
    with pytest.raises(ObjectStoreError) as incomplete:
        decoder.finish()
    assert incomplete.value.code == "IncompleteBody"
    with pytest.raises(ObjectStoreError) as malformed:
        AwsChunkedDecoder().feed(b"zz;chunk-signature=1\r\n")
    assert malformed.value.code == "InvalidRequest"


def test_range_headers() -> None:
    assert parse_range("bytes=0-9") == (0, 9)
    assert parse_range("bytes=5-") == (5, None)
    assert parse_range("bytes=-5") == (-5, None)
    assert parse_range("bytes=9-2") is None
    assert parse_range("items=0-1") is None
    assert parse_range("bytes=0-1,4-5") is None
    assert parse_range(None) is None
    with pytest.raises(InvalidRange):
        parse_range("bytes=-0")


def test_copy_source_header() -> None:
    assert parse_copy_source("/bkt/a%20b/c.txt") == ("bkt", "a b/c.txt")
    assert parse_copy_source("bkt/key?versionId=null") == ("bkt", "key")
    with pytest.raises(InvalidArgument):
        parse_copy_source("just-a-bucket")


def test_preconditions() -> None:
    modified = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    info = ObjectInfo("b", "k", 1, '"abc"', modified)
    assert precondition_status(info, {"if-match": '"abc"'}) is None
    assert precondition_status(info, {"if-match": '"zzz"'}) == 412
    assert precondition_status(info, {"if-none-match": '"abc"'}) == 304
    assert precondition_status(info, {"if-none-match": "*"}) == 304
    assert precondition_status(info, {"if-modified-since": "Wed, 01 May 2024 12:00:00 GMT"}) == 304
    assert precondition_status(info, {"if-modified-since": "Tue, 30 Apr 2024 12:00:00 GMT"}) is None
    assert (
        precondition_status(info, {"if-unmodified-since": "Tue, 30 Apr 2024 12:00:00 GMT"}) == 412
    )
    assert (
        precondition_status(info, {"x-amz-copy-source-if-match": '"zzz"'}, "x-amz-copy-source-")
        == 412
    )


def _parsed(operation: str, root: str, data: dict) -> dict:
    shape = service_model("s3").operation_model(operation).output_shape
    body = rest_xml.document(root, shape, data)
    response = {"body": body, "headers": rest_xml.headers(shape, data), "status_code": 200}
    parsed = RestXMLParser().parse(response, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_documents_read_back_through_botocore() -> None:
    moment = datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
    listing = {
        "IsTruncated": True,
        "Contents": [
            {
                "Key": "a&b<c>",
                "LastModified": moment,
                "ETag": '"x"',
                "Size": 3,
                "StorageClass": "STANDARD",
            },
            {
                "Key": "d",
                "LastModified": moment,
                "ETag": '"y"',
                "Size": 0,
                "StorageClass": "STANDARD",
                "ChecksumAlgorithm": ["CRC32"],
                "ChecksumType": "FULL_OBJECT",
            },
        ],
        "Name": "bkt",
        "Prefix": "",
        "Delimiter": "/",
        "MaxKeys": 2,
        "CommonPrefixes": [{"Prefix": "p/"}, {"Prefix": "q/"}],
        "KeyCount": 4,
        "NextContinuationToken": "token",
    }
    assert _parsed("ListObjectsV2", "ListBucketResult", listing) == listing
    buckets = {
        "Buckets": [{"Name": "one", "CreationDate": moment}],
        "Owner": {"ID": "id", "DisplayName": "me"},
    }
    assert _parsed("ListBuckets", "ListAllMyBucketsResult", buckets) == buckets
    deleted = {
        "Deleted": [{"Key": "a"}],
        "Errors": [{"Key": "b", "Code": "AccessDenied", "Message": "no"}],
    }
    assert _parsed("DeleteObjects", "DeleteResult", deleted) == deleted
    done = {
        "Bucket": "bkt",
        "Key": "k",
        "ETag": '"e-2"',
        "ChecksumCRC32": "AAAAAA==-2",
        "ChecksumType": "COMPOSITE",
    }
    assert _parsed("CompleteMultipartUpload", "CompleteMultipartUploadResult", done) == done


def test_header_members_read_back_through_botocore() -> None:
    moment = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    data = {
        "ETag": '"abc"',
        "LastModified": moment,
        "ContentLength": 10,
        "ContentType": "text/plain",
        "Metadata": {"owner": "me"},
        "ChecksumCRC32": "AAAAAA==",
        "PartsCount": 2,
    }
    headers = rest_xml.headers(service_model("s3").operation_model("HeadObject").output_shape, data)
    assert headers["Last-Modified"] == "Wed, 01 May 2024 12:30:15 GMT"
    assert headers["x-amz-meta-owner"] == "me" and headers["x-amz-mp-parts-count"] == "2"
    assert _parsed("HeadObject", "unused", data) == data
