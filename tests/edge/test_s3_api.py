"""The S3 API through plain boto3 (configured only by environment) against a live server."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def status_of(caught: pytest.ExceptionInfo[ClientError]) -> int:
    return int(caught.value.response["ResponseMetadata"]["HTTPStatusCode"])


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.fixture
def bucket(s3) -> Iterator[str]:  # noqa: ANN001 - boto3 client
    name = f"api-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    yield name


# buckets


def test_bucket_operations(s3) -> None:  # noqa: ANN001
    name = f"api-{uuid.uuid4().hex[:20]}"
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert name in [item["Name"] for item in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    with pytest.raises(s3.exceptions.BucketAlreadyOwnedByYou) as exists:
        s3.create_bucket(Bucket=name)
    assert status_of(exists) == 409
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as not_empty:
        s3.delete_bucket(Bucket=name)
    assert (error_code(not_empty), status_of(not_empty)) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as missing:
        s3.head_bucket(Bucket=name)
    assert (error_code(missing), status_of(missing)) == ("404", 404)


def test_missing_bucket_and_key(s3, bucket: str) -> None:  # noqa: ANN001
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.list_objects_v2(Bucket=f"missing-{uuid.uuid4().hex[:10]}")
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.get_object(Bucket=f"missing-{uuid.uuid4().hex[:10]}", Key="k")
    with pytest.raises(s3.exceptions.NoSuchKey) as no_key:
        s3.get_object(Bucket=bucket, Key="nothing/here")
    assert status_of(no_key) == 404
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=bucket, Key="nothing/here")
    assert (error_code(head), status_of(head)) == ("404", 404)


def test_invalid_bucket_name(s3) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket="Not_Valid")
    assert (error_code(caught), status_of(caught)) == ("InvalidBucketName", 400)


def test_error_document_shape(sagebox_server, bucket: str) -> None:  # noqa: ANN001
    response = httpx.get(f"{sagebox_server.endpoint_url}/{bucket}/missing-key")
    assert response.status_code == 404
    assert response.headers["x-amz-request-id"]
    text = response.text
    assert "<Code>NoSuchKey</Code>" in text and "<Key>missing-key</Key>" in text
    assert "<Message>The specified key does not exist.</Message>" in text
    assert f"<RequestId>{response.headers['x-amz-request-id']}</RequestId>" in text
    head = httpx.head(f"{sagebox_server.endpoint_url}/{bucket}/missing-key")
    assert head.status_code == 404 and head.content == b""
    missing_bucket = httpx.get(
        f"{sagebox_server.endpoint_url}/no-such-bucket-{uuid.uuid4().hex[:8]}"
    )
    assert (
        "<Code>NoSuchBucket</Code>" in missing_bucket.text and "<BucketName>" in missing_bucket.text
    )


def test_operations_outside_the_subset_answer_501(s3, bucket: str, sagebox_server) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_acl(Bucket=bucket)
    assert (error_code(caught), status_of(caught)) == ("NotImplemented", 501)
    assert "GetBucketAcl" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as tagging:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert "PutObjectTagging" in tagging.value.response["Error"]["Message"]
    patch = httpx.request("PATCH", f"{sagebox_server.endpoint_url}/{bucket}/k")
    assert patch.status_code == 405 and "<Code>MethodNotAllowed</Code>" in patch.text


# objects


def test_put_get_head_with_metadata(s3, bucket: str, sagebox_server) -> None:  # noqa: ANN001
    body = b"a,b\n1,2\n"
    put = s3.put_object(
        Bucket=bucket, Key="data/t.csv", Body=body, ContentType="text/csv", Metadata={"Owner": "me"}
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="data/t.csv")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["ContentLength"], got["Metadata"]) == (
        "text/csv",
        8,
        {"owner": "me"},
    )
    assert got["ETag"] == put["ETag"] and got["AcceptRanges"] == "bytes"
    head = s3.head_object(Bucket=bucket, Key="data/t.csv")
    assert (head["ContentLength"], head["ETag"], head["Metadata"]) == (
        8,
        put["ETag"],
        {"owner": "me"},
    )
    assert head["LastModified"].tzinfo is not None
    on_disk = Path(sagebox_server.home) / "objects" / bucket / "data" / "t.csv"
    assert on_disk.read_bytes() == body


def test_range_requests(s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    part = s3.get_object(Bucket=bucket, Key="digits", Range="bytes=2-5")
    assert part["Body"].read() == b"2345"
    assert part["ContentRange"] == "bytes 2-5/10"
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="digits", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket=bucket, Key="digits", Range="bytes=7-")["Body"].read() == b"789"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="digits", Range="bytes=10-20")
    assert (error_code(caught), status_of(caught)) == ("InvalidRange", 416)


def test_conditional_requests(s3, bucket: str) -> None:  # noqa: ANN001
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as failed:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert (error_code(failed), status_of(failed)) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status_of(unchanged) == 304
    with pytest.raises(ClientError) as exists:
        s3.put_object(Bucket=bucket, Key="c", Body=b"v2", IfNoneMatch="*")
    assert status_of(exists) == 412


def test_checksums(s3, bucket: str) -> None:  # noqa: ANN001
    body = b"checked on the way in and out"
    put = s3.put_object(Bucket=bucket, Key="sum", Body=body)  # boto3 sends CRC32 by default
    assert put["ChecksumCRC32"] == crc32(body)
    head = s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (crc32(body), "FULL_OBJECT")
    got = s3.get_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert got["Body"].read() == body and got["ChecksumCRC32"] == crc32(body)
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="sha", Body=body, ChecksumAlgorithm="SHA256")
    assert s3.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha


def test_wrong_content_md5_is_bad_digest(s3, bucket: str) -> None:  # noqa: ANN001
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="md5", Body=b"payload", ContentMD5=wrong)
    assert (error_code(caught), status_of(caught)) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="md5")
    right = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=b"payload", ContentMD5=right)


def test_wrong_crc32_is_bad_digest(s3, bucket: str) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="crc", Body=b"payload", ChecksumCRC32=crc32(b"other"))
    assert (error_code(caught), status_of(caught)) == ("BadDigest", 400)
    message = caught.value.response["Error"]["Message"]
    assert message == "The CRC32 you specified did not match the calculated checksum."


def test_corrupted_headers_sent_raw(sagebox_server, bucket: str) -> None:  # noqa: ANN001
    url = f"{sagebox_server.endpoint_url}/{bucket}/raw"
    bad_md5 = httpx.put(url, content=b"payload", headers={"Content-MD5": "not base64!"})
    assert bad_md5.status_code == 400 and "<Code>InvalidDigest</Code>" in bad_md5.text
    bad_crc = httpx.put(url, content=b"payload", headers={"x-amz-checksum-crc32": crc32(b"x")})
    assert bad_crc.status_code == 400 and "<Code>BadDigest</Code>" in bad_crc.text
    crc32c = httpx.put(url, content=b"payload", headers={"x-amz-checksum-crc32c": "AAAAAA=="})
    assert crc32c.status_code in (400, 501)
    assert httpx.head(url).status_code == 404


def test_aws_chunked_upload(sagebox_server, s3, bucket: str) -> None:  # noqa: ANN001
    payload = os.urandom(200_000)

    def encode(data: bytes, checksum: str, signed: bool) -> bytes:
        signature = b";chunk-signature=" + b"0" * 64 if signed else b""
        out = b""
        for start in range(0, len(data), 65536):
            piece = data[start : start + 65536]
            out += f"{len(piece):x}".encode() + signature + b"\r\n" + piece + b"\r\n"
        return (
            out + b"0" + signature + b"\r\n" + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode()
        )

    for signed in (False, True):
        key = f"chunked-{signed}"
        response = httpx.put(
            f"{sagebox_server.endpoint_url}/{bucket}/{key}",
            content=encode(payload, crc32(payload), signed),
            headers={
                "Content-Encoding": "aws-chunked",
                "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "x-amz-decoded-content-length": str(len(payload)),
                "x-amz-trailer": "x-amz-checksum-crc32",
                "Content-Type": "application/octet-stream",
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{hashlib.md5(payload).hexdigest()}"'
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == payload
    corrupt = httpx.put(
        f"{sagebox_server.endpoint_url}/{bucket}/chunked-bad",
        content=encode(payload, crc32(b"other"), False),
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(payload)),
            "x-amz-trailer": "x-amz-checksum-crc32",
        },
    )
    assert corrupt.status_code == 400 and "<Code>BadDigest</Code>" in corrupt.text


def test_virtual_hosted_style(sagebox_server, s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="vhost/file.txt", Body=b"by host")
    port = sagebox_server.endpoint_url.rsplit(":", 1)[1]
    for host in (f"{bucket}.localhost:{port}", f"{bucket}.s3.us-east-1.amazonaws.com"):
        response = httpx.get(
            f"{sagebox_server.endpoint_url}/vhost/file.txt", headers={"Host": host}
        )
        assert response.status_code == 200 and response.content == b"by host"
    listing = httpx.get(
        f"{sagebox_server.endpoint_url}/?list-type=2", headers={"Host": f"{bucket}.localhost"}
    )
    assert "<Key>vhost/file.txt</Key>" in listing.text


def test_presigned_get(s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"})
    assert httpx.get(url).content == b"presigned"


def test_delete_object_and_objects(s3, bucket: str) -> None:  # noqa: ANN001
    for key in ("a", "b", "c", "d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b".")
    assert s3.delete_object(Bucket=bucket, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.delete_object(Bucket=bucket, Key="never-existed")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "missing"}]}
    )
    assert sorted(item["Key"] for item in result["Deleted"]) == ["b", "missing"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["d"]


def test_copy_object(s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"copy", ContentType="text/plain", Metadata={"a": "1"}
    )
    result = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy").hexdigest()}"'
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"a": "1"})
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/csv",
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert (head["ContentType"], head["Metadata"]) == ("text/csv", {"b": "2"})
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})


STANDARD = {
    "CacheControl": "max-age=60",
    "ContentDisposition": 'attachment; filename="report.csv"',
    "ContentEncoding": "gzip",
    "ContentLanguage": "de-DE",
}
EXPIRES = "Wed, 21 Oct 2037 07:28:00 GMT"


def standard_headers(response: dict) -> dict:
    found = {name: response.get(name) for name in STANDARD}
    return {**found, "Expires": response.get("ExpiresString")}


def test_standard_headers_are_stored_with_objects(s3, bucket: str) -> None:  # noqa: ANN001
    expected = {**STANDARD, "Expires": EXPIRES}
    s3.put_object(Bucket=bucket, Key="std", Body=b"x", Expires=EXPIRES, **STANDARD)
    assert standard_headers(s3.head_object(Bucket=bucket, Key="std")) == expected
    got = s3.get_object(Bucket=bucket, Key="std", ResponseCacheControl="no-cache")
    assert standard_headers(got) == {**expected, "CacheControl": "no-cache"}
    s3.copy_object(Bucket=bucket, Key="std-copy", CopySource=f"{bucket}/std")
    assert standard_headers(s3.head_object(Bucket=bucket, Key="std-copy")) == expected
    s3.copy_object(
        Bucket=bucket,
        Key="std-copy",
        CopySource=f"{bucket}/std",
        MetadataDirective="REPLACE",
        CacheControl="no-store",
    )
    replaced = standard_headers(s3.head_object(Bucket=bucket, Key="std-copy"))
    assert replaced == {**dict.fromkeys(expected), "CacheControl": "no-store"}
    upload = s3.create_multipart_upload(Bucket=bucket, Key="std-mp", **STANDARD)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="std-mp", UploadId=upload, PartNumber=1, Body=b"y")
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="std-mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag["ETag"]}]},
    )
    assert standard_headers(s3.head_object(Bucket=bucket, Key="std-mp")) == {
        **STANDARD,
        "Expires": None,
    }


def test_aws_chunked_is_not_a_stored_content_encoding(sagebox_server, s3, bucket: str) -> None:  # noqa: ANN001
    body = b"5\r\nhello\r\n0\r\n\r\n"
    for encoding, stored in (("aws-chunked", None), ("gzip,aws-chunked", "gzip")):
        response = httpx.put(
            f"{sagebox_server.endpoint_url}/{bucket}/enc",
            content=body,
            headers={"Content-Encoding": encoding, "x-amz-decoded-content-length": "5"},
        )
        assert response.status_code == 200, response.text
        got = s3.get_object(Bucket=bucket, Key="enc")
        assert got["Body"].read() == b"hello" and got.get("ContentEncoding") == stored


def test_s3_backend_keeps_standard_headers(sagebox_server, bucket: str) -> None:  # noqa: ANN001
    from sagebox.objects import S3ObjectStore
    from sagebox.objects.s3 import create_s3_client

    store = S3ObjectStore(create_s3_client(sagebox_server.endpoint_url))
    headers = {"Cache-Control": "max-age=5", "Content-Language": "en", "Expires": EXPIRES}
    assert store.put_object(bucket, "backend", b"z", headers=headers).headers == headers
    assert store.copy_object(bucket, "backend", bucket, "backend-copy").headers == headers
    replaced = store.copy_object(bucket, "backend", bucket, "backend-copy", headers={})
    assert replaced.headers == {}


# listings


def test_list_objects_v2(s3, bucket: str) -> None:  # noqa: ANN001
    keys = ["docs/a b.txt", "docs/ü.txt", "docs/sub/x", "docs/sub/y", "plus+sign", "top"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"..")
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listed["Contents"]] == sorted(keys, key=str.encode)
    assert listed["KeyCount"] == len(keys) and listed["Contents"][0]["Size"] == 2
    folders = s3.list_objects_v2(Bucket=bucket, Prefix="docs/", Delimiter="/")
    assert [item["Key"] for item in folders["Contents"]] == ["docs/a b.txt", "docs/ü.txt"]
    assert folders["CommonPrefixes"] == [{"Prefix": "docs/sub/"}]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="docs/sub/y")
    assert [item["Key"] for item in after["Contents"]] == ["docs/ü.txt", "plus+sign", "top"]
    pages = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 3
    assert [item["Key"] for page in pages for item in page["Contents"]] == sorted(
        keys, key=str.encode
    )
    assert pages[0]["IsTruncated"] and pages[0]["NextContinuationToken"]
    with pytest.raises(ClientError) as bad_token:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="%%%")
    assert error_code(bad_token) == "InvalidArgument"


def test_list_objects_v1(s3, bucket: str) -> None:  # noqa: ANN001
    keys = [f"v1/{index}" for index in range(5)] + ["w/1", "w/2"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b".")
    pages = list(
        s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    )
    assert [item["Key"] for page in pages for item in page["Contents"]] == keys
    rolled = list(
        s3.get_paginator("list_objects").paginate(
            Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    prefixes = [item["Prefix"] for page in rolled for item in page.get("CommonPrefixes", [])]
    assert prefixes == ["v1/", "w/"]
    first = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] and first["NextMarker"] == "v1/1"
    assert s3.list_objects(Bucket=bucket, Marker="v1/3")["Contents"][0]["Key"] == "v1/4"


def test_resource_interface(bucket: str, sagebox_server) -> None:  # noqa: ANN001
    resource = boto3.resource("s3")
    target = resource.Bucket(bucket)
    target.upload_fileobj(io.BytesIO(b"resource bytes"), "res/one.txt")
    target.put_object(Key="res/two.txt", Body=b"two")
    assert sorted(item.key for item in target.objects.filter(Prefix="res/")) == [
        "res/one.txt",
        "res/two.txt",
    ]
    assert resource.Object(bucket, "res/one.txt").get()["Body"].read() == b"resource bytes"
    target.objects.filter(Prefix="res/").delete()
    assert list(target.objects.all()) == []


# multipart uploads


def test_multipart_low_level(s3, bucket: str) -> None:  # noqa: ANN001
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/plain")[
        "UploadId"
    ]
    first, second = b"1" * (5 * 1024 * 1024), b"tail"
    parts = [
        {
            "PartNumber": number,
            "ETag": s3.upload_part(
                Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=body
            )["ETag"],
        }
        for number, body in ((1, first), (2, second))
    ]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert done["ETag"].endswith('-2"') and done["Key"] == "mp"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == first + second
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=3, Body=b"late")
    small = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    tiny = [
        {
            "PartNumber": number,
            "ETag": s3.upload_part(
                Bucket=bucket, Key="small", UploadId=small, PartNumber=number, Body=b"x"
            )["ETag"],
        }
        for number in (1, 2)
    ]
    with pytest.raises(ClientError) as too_small:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="small", UploadId=small, MultipartUpload={"Parts": tiny}
        )
    assert error_code(too_small) == "EntityTooSmall"
    with pytest.raises(ClientError) as bad_part:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="small",
            UploadId=small,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]},
        )
    assert error_code(bad_part) == "InvalidPart"
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)


def test_list_parts_and_uploads_in_progress(s3, bucket: str) -> None:  # noqa: ANN001
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dir/a b", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    etags = [
        s3.upload_part(
            Bucket=bucket,
            Key="dir/a b",
            UploadId=upload,
            PartNumber=number,
            Body=b"p" * number,
            ChecksumAlgorithm="SHA256",
        )["ETag"]
        for number in (1, 2)
    ]
    listed = s3.list_parts(Bucket=bucket, Key="dir/a b", UploadId=upload, MaxParts=1)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [(1, etags[0], 1)]
    assert listed["IsTruncated"] and listed["NextPartNumberMarker"] == 1
    assert listed["Parts"][0]["ChecksumSHA256"] and listed["ChecksumAlgorithm"] == "SHA256"
    paginator = s3.get_paginator("list_parts")
    every = [
        p["PartNumber"]
        for page in paginator.paginate(
            Bucket=bucket, Key="dir/a b", UploadId=upload, PaginationConfig={"PageSize": 1}
        )
        for p in page.get("Parts", [])
    ]
    assert every == [1, 2]
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix="dir/", EncodingType="url")
    assert [(u["Key"], u["UploadId"]) for u in uploads["Uploads"]] == [("dir/a%20b", upload)]
    assert uploads["Uploads"][0]["Initiated"].tzinfo is not None
    with pytest.raises(ClientError) as bad_count:
        s3.list_parts(Bucket=bucket, Key="dir/a b", UploadId=upload, MaxParts=-1)
    assert (error_code(bad_count), status_of(bad_count)) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as delimited:
        s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert status_of(delimited) == 501 and "delimiter" in str(delimited.value)
    s3.abort_multipart_upload(Bucket=bucket, Key="dir/a b", UploadId=upload)
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.list_parts(Bucket=bucket, Key="dir/a b", UploadId=upload)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_upload_and_download_100_mb(s3, bucket: str, tmp_path: Path) -> None:  # noqa: ANN001
    source = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with open(source, "wb") as out:
        for index in range(100):
            out.write(index.to_bytes(4, "big") + block[4:])
    s3.upload_file(str(source), bucket, "big/file.bin")
    head = s3.head_object(Bucket=bucket, Key="big/file.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 100 * 1024 * 1024
    assert head["ETag"].endswith('-13"')  # 8 MiB parts by default
    assert head["ChecksumCRC32"].endswith("-13") and head["ChecksumType"] == "COMPOSITE"
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "big/file.bin", str(target))
    assert target.stat().st_size == source.stat().st_size
    assert hashlib.md5(target.read_bytes()).digest() == hashlib.md5(source.read_bytes()).digest()


def test_managed_copy_uses_part_copies(s3, bucket: str) -> None:  # noqa: ANN001
    body = os.urandom(9 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="copy/source", Body=body)
    s3.copy({"Bucket": bucket, "Key": "copy/source"}, bucket, "copy/target")
    head = s3.head_object(Bucket=bucket, Key="copy/target")
    assert head["ETag"].endswith('-2"')
    assert s3.get_object(Bucket=bucket, Key="copy/target")["Body"].read() == body
