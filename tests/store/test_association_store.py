"""The association repository on SQLite and PostgreSQL: edges found from either end by index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sagebox.store import (
    AlreadyExists,
    Condition,
    DocumentSort,
    InvalidNextToken,
    MetadataStore,
    NotFound,
    ResourceRecord,
)
from sagebox.store.associations import association_record

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def edge(source: str, destination: str) -> ResourceRecord:
    document = {"SourceArn": source, "DestinationArn": destination, "SourceType": source[0].upper()}
    return association_record(
        source, destination, document, creation_time=NOW, last_modified_time=NOW
    )


def test_edges_are_found_from_either_end(store: MetadataStore) -> None:
    edges = store.associations
    for source, destination in [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d"), ("a b", "c")]:
        edges.add(edge(source, destination))
    assert sorted(r.document["DestinationArn"] for r in edges.outgoing(["a"])) == ["b", "c"]
    assert sorted(r.document["SourceArn"] for r in edges.incoming(["c"])) == ["a", "a b", "b"]
    # "a b" -> "c" is stored under the key "c a b": no range of "a" reaches it.
    assert sorted(r.document["SourceArn"] for r in edges.incoming(["b", "d"])) == ["a", "c"]
    assert {r.name for r in edges.touching("b")} == {"b a", "c b"}
    with pytest.raises(AlreadyExists):
        edges.add(edge("a", "b"))
    assert edges.get("a", "b") is not None and edges.get("b", "a") is None
    edges.delete("a", "b")
    with pytest.raises(NotFound):
        edges.delete("a", "b")
    assert [r.document["DestinationArn"] for r in edges.outgoing(["a"])] == ["c"]
    assert edges.count(Condition(("SourceType",), "Equals", "A")) == 2


def test_many_ends_in_one_walk_step(store: MetadataStore) -> None:
    edges = store.associations
    sources = [f"arn:aws:sagemaker:us-east-1:1:artifact/{i:032x}" for i in range(900)]
    for index, source in enumerate(sources):
        edges.add(edge(source, f"arn:aws:sagemaker:us-east-1:1:context/c{index % 7}"))
    assert len(edges.outgoing(sources)) == 900  # more ARNs than one query binds
    assert (
        len(edges.incoming([f"arn:aws:sagemaker:us-east-1:1:context/c{i}" for i in range(7)]))
        == 900
    )
    assert len(edges.incoming(["arn:aws:sagemaker:us-east-1:1:context/c1"])) == 129


def test_records_are_found_by_arn_whatever_their_kind(store: MetadataStore) -> None:
    store.resources("Artifact").create(ResourceRecord("Artifact", "x", "arn:x", "", NOW, NOW, {}))
    store.resources("TrainingJob").create(
        ResourceRecord("TrainingJob", "y", "arn:y", "", NOW, NOW, {})
    )
    found = store.associations.records_with_arns(["arn:x", "arn:y", "arn:z"])
    assert {arn: r.kind for arn, r in found.items()} == {
        "arn:x": "Artifact",
        "arn:y": "TrainingJob",
    }


def test_a_query_by_one_end_pages_through_that_end_only(store: MetadataStore) -> None:
    edges = store.associations
    for index in range(7):
        edges.add(edge(f"s{index}", "hub"))
        edges.add(edge("hub", f"d{index}"))
    edges.add(edge("hub x", "hub"))
    edges.add(edge("a", "hub x"))  # its key "hub x a" starts with "hub " too
    sort = DocumentSort(("SourceArn",), "Ascending", numeric=False)
    into: list[str] = []
    token = None
    while True:
        page, token = edges.query(None, sort, destination="hub", max_results=3, next_token=token)
        into += [r.document["SourceArn"] for r in page]
        if token is None:
            break
    assert into == ["hub x", *(f"s{i}" for i in range(7))]
    out, _ = edges.query(Condition(("DestinationArn",), "In", ["d1", "d5"]), source="hub")
    assert sorted(r.document["DestinationArn"] for r in out) == ["d1", "d5"]
    with pytest.raises(InvalidNextToken):
        edges.query(
            None,
            sort,
            source="hub",
            next_token=edges.query(None, sort, destination="hub", max_results=1)[1],
        )
