"""`sagebox serve --auth`: a key from `sagebox keys create` works with every real client.

boto3 (SageMaker, S3 with presigned URLs, multipart and signed aws-chunked uploads,
CloudWatch Logs, STS, IAM, sagemaker-runtime), the SageMaker Python SDK and the AWS
CLI through `sagebox env`. The refusals are in test_auth_refusals.py.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from tests.edge.auth_server import (
    REGION,
    SAGEBOX,
    KeyPair,
    clean_environment,
    client,
    create_key,
    start_server,
)

AWS = Path(__file__).resolve().parents[2] / ".venv-awscli" / "bin" / "aws"
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-home")


@pytest.fixture(scope="module")
def key(home: Path) -> KeyPair:
    return create_key(home, "alice")


@pytest.fixture(scope="module")
def server(home: Path, key: KeyPair) -> Iterator[ServerProcess]:
    started = start_server(home, "--auth")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def bucket(server: ServerProcess, key: KeyPair) -> str:
    name = f"auth-{uuid.uuid4().hex[:10]}"
    client("s3", server.endpoint_url, key).create_bucket(Bucket=name)
    return name


def test_sagemaker_accepts_the_key(server: ServerProcess, key: KeyPair) -> None:
    sagemaker = client("sagemaker", server.endpoint_url, key)
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_training_job(TrainingJobName="no-such-job")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_sts_answers_with_the_keys_identity(server: ServerProcess, key: KeyPair) -> None:
    identity = client("sts", server.endpoint_url, key).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/alice"
    assert identity["Account"] == "123456789012"
    assert identity["UserId"].startswith("AIDA") and len(identity["UserId"]) == 21


def test_iam_and_logs_accept_the_key(server: ServerProcess, key: KeyPair) -> None:
    role = client("iam", server.endpoint_url, key).get_role(RoleName="SageMakerRole")
    assert role["Role"]["Arn"] == "arn:aws:iam::123456789012:role/SageMakerRole"
    groups = client("logs", server.endpoint_url, key).describe_log_groups()
    assert isinstance(groups["logGroups"], list)


def test_invocations_get_past_authentication(server: ServerProcess, key: KeyPair) -> None:
    runtime = client("sagemaker-runtime", server.endpoint_url, key)
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(
            EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1,2"
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "no-such-endpoint" in raised.value.response["Error"]["Message"]


def test_s3_put_get_and_list_with_odd_keys(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key)
    odd = "data/a b+c=d&e~f%g/ü.csv"
    s3.put_object(Bucket=bucket, Key=odd, Body=b"1,2,3\n", ContentType="text/csv")
    assert s3.get_object(Bucket=bucket, Key=odd)["Body"].read() == b"1,2,3\n"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="data/a b+c", Delimiter="/")
    assert listed["CommonPrefixes"] == [{"Prefix": "data/a b+c=d&e~f%g/"}]


def test_s3_virtual_hosted_addressing(server: ServerProcess, key: KeyPair, bucket: str) -> None:
    """Signed for Host <bucket>.localhost (which needs no DNS in browsers, but does here,
    so the request is sent to the loopback address with that Host)."""
    client("s3", server.endpoint_url, key).put_object(Bucket=bucket, Key="virtual.txt", Body=b"v")
    port = server.endpoint_url.rsplit(":", 1)[1]
    request = AWSRequest("GET", f"http://{bucket}.localhost:{port}/virtual.txt")
    S3SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "s3", REGION).add_auth(
        request
    )
    headers = dict(request.headers.items()) | {"Host": f"{bucket}.localhost:{port}"}
    answer = httpx.get(f"{server.endpoint_url}/virtual.txt", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.content == b"v"


def test_presigned_get_url_works_with_a_plain_http_client(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key, signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="shared/report.txt", Body=b"for your eyes")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared/report.txt"}, ExpiresIn=300
    )
    assert "X-Amz-Signature=" in url
    answer = httpx.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.content == b"for your eyes"


def test_boto3s_default_legacy_presigned_url_works(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    """Without signature_version="s3v4", boto3 presigns S3 URLs with Signature Version 2."""
    s3 = client("s3", server.endpoint_url, key)
    s3.put_object(Bucket=bucket, Key="shared/legacy file.txt", Body=b"old style")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared/legacy file.txt"}, ExpiresIn=300
    )
    assert "AWSAccessKeyId=" in url and "X-Amz-Signature" not in url
    answer = httpx.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.content == b"old style"


def test_multipart_upload(server: ServerProcess, key: KeyPair, bucket: str) -> None:
    s3 = client("s3", server.endpoint_url, key)
    first, last = b"a" * (5 * MIB), b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    parts = [
        {
            "PartNumber": number,
            "ETag": s3.upload_part(
                Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=number, Body=data
            )["ETag"],
        }
        for number, data in ((1, first), (2, last))
    ]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(first) + len(last)


class _StreamingSigner(S3SigV4Auth):
    """botocore's S3 signer with the payload declared as signed chunks (seed signature)."""

    def payload(self, request: AWSRequest) -> str:
        return STREAMING


def signed_chunked_put(
    endpoint_url: str, bucket: str, key_name: str, data: bytes, key: KeyPair, chunk: int = 8192
) -> tuple[dict[str, str], list[bytes]]:
    """Headers and the chunk frames of a signed aws-chunked PutObject, as SDKs that stream
    with SigV4 (Java, Go, .NET) send it."""
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""]
    frame_overhead = len(";chunk-signature=") + 64 + 4
    length = sum(len(f"{len(piece):x}") + frame_overhead + len(piece) for piece in pieces)
    request = AWSRequest(
        "PUT",
        f"{endpoint_url}/{bucket}/{key_name}",
        headers={
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data)),
            "Content-Length": str(length),
        },
    )
    signer = _StreamingSigner(Credentials(key.access_key_id, key.secret_access_key), "s3", REGION)
    signer.add_auth(request)
    previous = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    timestamp, scope = request.context["timestamp"], signer.credential_scope(request)
    frames = []
    for piece in pieces:
        text = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                timestamp,
                scope,
                previous,
                hashlib.sha256(b"").hexdigest(),
                hashlib.sha256(piece).hexdigest(),
            ]
        )
        previous = signer.signature(text, request)
        frames.append(f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece + b"\r\n")
    return dict(request.headers.items()), frames


def test_signed_aws_chunked_upload(server: ServerProcess, key: KeyPair, bucket: str) -> None:
    data = bytes(range(256)) * 100  # 25,600 bytes: four chunks and the final one
    headers, frames = signed_chunked_put(server.endpoint_url, bucket, "chunked.bin", data, key)
    answer = httpx.put(
        f"{server.endpoint_url}/{bucket}/chunked.bin", headers=headers, content=b"".join(frames)
    )
    assert answer.status_code == 200, answer.text
    s3 = client("s3", server.endpoint_url, key)
    assert s3.get_object(Bucket=bucket, Key="chunked.bin")["Body"].read() == data


def test_signed_aws_chunked_upload_with_a_changed_chunk_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    data = b"x" * 20000
    headers, frames = signed_chunked_put(server.endpoint_url, bucket, "tampered.bin", data, key)
    frames[1] = frames[1].replace(b"xxxx\r\n", b"xxxy\r\n")
    answer = httpx.put(
        f"{server.endpoint_url}/{bucket}/tampered.bin", headers=headers, content=b"".join(frames)
    )
    assert answer.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
    s3 = client("s3", server.endpoint_url, key)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="tampered.bin")


def test_sdk_and_aws_cli_through_sagebox_env(
    server: ServerProcess, home: Path, tmp_path: Path
) -> None:
    """`sagebox env` finds the server requires auth, exports a key of the home's store;
    the SageMaker SDK v2 and the AWS CLI then work unchanged."""
    if not AWS.exists():
        pytest.skip(f"the AWS CLI is not installed at {AWS} (make install-clients)")
    upload = tmp_path / "train.csv"
    upload.write_bytes(b"1,2\n3,4\n")
    sdk = (
        "import sagemaker; s = sagemaker.Session(); "
        f"print(s.upload_data({str(upload)!r}, bucket=s.default_bucket(), key_prefix='sdk')); "
        "print('jobs', len(s.sagemaker_client.list_training_jobs()['TrainingJobSummaries']))"
    )
    script = (
        f'eval "$({" ".join(SAGEBOX)} env --endpoint-url {server.endpoint_url} --home {home})" && '
        f'{sys.executable} -c "{sdk}" && '
        f"{AWS} s3 cp {upload} s3://sagebox-default/cli/train.csv && "
        f"{AWS} sagemaker list-training-jobs --output json && "
        f"{sys.executable} -c \"import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])\""
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=clean_environment(), timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "s3://sagebox-default/sdk/train.csv" in done.stdout
    assert "upload: " in done.stdout and "TrainingJobSummaries" in done.stdout
    assert "arn:aws:iam::123456789012:user/sagebox" in done.stdout
    assert "# sagebox env: created access key AKIA" in done.stderr


def test_sagebox_env_exports_a_given_key_and_refuses_a_wrong_one(
    server: ServerProcess, key: KeyPair, tmp_path: Path
) -> None:
    def env(secret: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *SAGEBOX,
                "env",
                "--endpoint-url",
                server.endpoint_url,
                "--home",
                str(tmp_path),
                "--access-key-id",
                key.access_key_id,
                "--secret-access-key",
                secret,
            ],
            capture_output=True,
            text=True,
            env=clean_environment(),
            timeout=60,
        )

    good = env(key.secret_access_key)
    assert good.returncode == 0, good.stderr
    assert f"export AWS_ACCESS_KEY_ID={key.access_key_id}" in good.stdout
    wrong = env("x" * 40)
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert f"refuses access key {key.access_key_id}: SignatureDoesNotMatch" in wrong.stderr
