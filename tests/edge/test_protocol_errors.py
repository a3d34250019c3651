"""Errors for services sagebox does not serve, in each protocol botocore's parsers read."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from sagebox.edge.errors import AWSError
from sagebox.edge.protocol_errors import error_response, protocol_of


@pytest.mark.parametrize(
    ("scope", "protocol"),
    [("sns", "query"), ("sqs", "json"), ("ec2", "ec2"), ("route53", "rest-xml"), ("lambda", "rest-json"),
     ("../sagemaker", "json"), ("no-such-service", "json")],
)
def test_protocol_of_a_credential_scope(scope: str, protocol: str) -> None:
    assert protocol_of(scope) == protocol


@pytest.mark.parametrize("protocol", ["query", "ec2", "rest-xml", "json", "rest-json", "smithy-rpc-v2-cbor"])
def test_botocore_reads_the_error_of_every_protocol(protocol: str) -> None:
    response = error_response(protocol, AWSError("UnknownService", "sagebox does not serve 'x' <&>."), "rid-1")
    parsed = create_parser(protocol).parse(
        {"status_code": response.status_code, "headers": dict(response.headers), "body": response.body}, None
    )
    assert parsed["Error"]["Code"] == "UnknownService"
    assert parsed["Error"]["Message"] == "sagebox does not serve 'x' <&>."


def test_clients_of_unserved_services_get_client_errors(sagebox_server) -> None:  # noqa: ANN001
    for service, call in (("sns", "list_topics"), ("sqs", "list_queues")):
        client = boto3.client(service)
        with pytest.raises(ClientError) as caught:
            getattr(client, call)()
        assert caught.value.response["Error"]["Code"] == "UnknownService", service
        assert service in caught.value.response["Error"]["Message"]
