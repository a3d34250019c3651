"""Contract of document queries (store/query.py); every test runs on SQLite and on PostgreSQL.

Read-only cases share one store per backend and module (``catalog``); tests that
write use the suite's fresh ``store``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sagebox.store import (
    EACH,
    AllOf,
    AnyElement,
    AnyOf,
    ColumnSort,
    Condition,
    DocumentSort,
    InvalidNextToken,
    Match,
    MetadataStore,
    QueryError,
    ResourceRecord,
    ResourceRepository,
    TagCondition,
)
from sagebox.store.query import Expression, Sort
from tests.postgres_server import PostgresServer

KIND = "TrialComponent"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
MISSING = object()

# One member, "Value", of every JSON type: the operator matrix runs on these.
VALUES: dict[str, Any] = {
    "int": 10,
    "float": 10.5,
    "one": 1,
    "small": -3,
    "text": "10",
    "word": "Apple pie",
    "lower": "apple",
    "bool": True,
    "null": None,
    "missing": MISSING,
    "object": {"x": 1},
    "array": [10, "abc", True],
}
ALL_VALUES = set(VALUES)

METRICS: dict[str, Any] = {
    "m-both": [{"MetricName": "acc", "Max": 0.9}, {"MetricName": "loss", "Max": 0.3}],
    "m-loss-high": [{"MetricName": "acc", "Max": 0.7}, {"MetricName": "loss", "Max": 0.95}],
    "m-loss-only": [{"MetricName": "loss", "Max": 0.1}],
    "m-object": {"MetricName": "acc", "Max": 0.99},
    "m-odd": ["acc", 1, None, {"MetricName": "acc"}, {"MetricName": 5, "Max": 2}],
}
ALL_METRICS = set(METRICS)

SPECIAL_NAMES = {
    "validation:auc": "colon",
    "with space": "space",
    "a.b": "dot",
    "x[0]": "brackets",
    "$": "dollar",
    "*": "star",
    "'": "quote",
    "": "empty",
    "ü": "umlaut",
    "emoji 😀": "emoji",
    "back\\slash": "backslash",
    "new\nline": "newline",
    "a') OR 1=1 --": "sql",
}

SORTED: dict[str, dict[str, Any]] = {
    "s-a": {"Score": 2, "Label": "b", "Vals": [4, 6]},
    "s-b": {"Score": 1, "Label": "a", "Vals": [5]},
    "s-c": {"Score": 2, "Label": "C", "Vals": [3, 9]},
    "s-d": {"Score": "3", "Label": 5, "Vals": ["1"]},
    "s-e": {},
    "s-f": {"Score": 10.5, "Label": "aa", "Vals": []},
}

TAGGED = {
    "t-ml": [{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": "prod"}],
    "t-data": [{"Key": "team", "Value": "data"}],
    "t-none": [],
    "t-odd": [{"Key": "x' OR '1'='1", "Value": "'; DROP TABLE tags; --"}],
}


def arn_of(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:000000000000:{kind.lower()}/{name}"


def record(name: str, document: dict[str, Any], kind: str = KIND) -> ResourceRecord:
    return ResourceRecord(kind, name, arn_of(kind, name), "Completed", T0, T0, document)


class Catalog:
    """Repositories of one shared store holding the fixed records above."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.values = store.resources("Values")
        self.metrics = store.resources("Metrics")
        self.names = store.resources("Names")
        self.sorted = store.resources("Sorted")
        self.tagged = store.resources("Tagged")
        self.nested = store.resources("Nested")


def fill(store: MetadataStore) -> Catalog:
    catalog = Catalog(store)
    for name, value in VALUES.items():
        document = {} if value is MISSING else {"Value": value}
        catalog.values.create(record(name, document, "Values"))
    for name, metrics in METRICS.items():
        catalog.metrics.create(record(name, {"Metrics": metrics}, "Metrics"))
    catalog.metrics.create(record("m-none", {}, "Metrics"))
    for key, label in SPECIAL_NAMES.items():
        catalog.names.create(record(f"n-{label}", {key: label}, "Names"))
    catalog.names.create(record("n-nested", {"a": {"b": "nested"}}, "Names"))
    catalog.names.create(record("n-text-astral", {"Text": "a\U0001f600b"}, "Names"))
    catalog.names.create(record("n-text-bmp", {"Text": "a\uffffb"}, "Names"))
    for name, document in SORTED.items():
        catalog.sorted.create(record(name, document, "Sorted"))
    for name, tags in TAGGED.items():
        catalog.tagged.create(record(name, {"Tagged": True}, "Tagged"))
        store.tags.add(arn_of("Tagged", name), tags)
    groups = {
        "g-xy": [{"Items": [{"Id": "x"}, {"Id": "y"}]}, {"Items": "not an array"}],
        "g-z": [{"Items": [{"Id": "z"}]}, {"Items": [[{"Id": "x"}]]}],
        "g-flat": [{"Id": "x"}],
    }
    for name, value in groups.items():
        catalog.nested.create(
            record(name, {"Groups": value, "A": {"B": {"C": len(name)}}}, "Nested")
        )
    channels = {
        "c-same": [
            {"ChannelName": "train", "S3Uri": "s3://bucket/cat"},
            {"ChannelName": "test", "S3Uri": "s3://other"},
        ],
        "c-split": [
            {"ChannelName": "train", "S3Uri": "s3://other"},
            {"ChannelName": "test", "S3Uri": "s3://bucket/cat"},
        ],
        "c-no-uri": [{"ChannelName": "train"}],
        "c-object": {"ChannelName": "train", "S3Uri": "s3://bucket/cat"},
    }
    for name, value in channels.items():
        catalog.nested.create(record(name, {"Channels": value}, "Nested"))
    return catalog


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Catalog]:
    server: PostgresServer | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'sagebox.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
    store = MetadataStore(url)
    try:
        yield fill(store)
    finally:
        store.close()
        if server is not None:
            server.drop_database(url)


def everything(
    repository: ResourceRepository, where: Expression | None, sort: Sort | None = None
) -> list[str]:
    """Names of every matching record, all pages, checked against count()."""
    records, token = repository.query(where, sort, max_results=1000)
    assert token is None
    assert repository.count(where) == len(records)
    return [item.name for item in records]


def matching(repository: ResourceRepository, where: Expression | None) -> set[str]:
    names = everything(repository, where)
    assert len(names) == len(set(names))
    return set(names)


# Operators on every JSON type -----------------------------------------------------

VALUE = ("Value",)


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("Equals", 10, {"int"}),
        ("Equals", 10.0, {"int"}),
        ("Equals", 1, {"one"}),
        ("Equals", True, {"bool"}),
        ("Equals", False, set()),
        ("Equals", "10", {"text"}),
        ("Equals", "apple", {"lower"}),
        ("Equals", "Apple", set()),
        ("NotEquals", 10, ALL_VALUES - {"int"}),
        ("NotEquals", True, ALL_VALUES - {"bool"}),
        ("NotEquals", "10", ALL_VALUES - {"text"}),
        ("GreaterThan", 1, {"int", "float"}),
        ("GreaterThanOrEqualTo", 1, {"int", "float", "one"}),
        ("LessThan", 1, {"small"}),
        ("LessThanOrEqualTo", 1.0, {"one", "small"}),
        ("GreaterThan", -100, {"int", "float", "one", "small"}),
        ("GreaterThan", 10.25, {"float"}),
        ("GreaterThan", "B", {"lower"}),
        ("LessThan", "B", {"text", "word"}),
        ("GreaterThanOrEqualTo", "apple", {"lower"}),
        ("LessThanOrEqualTo", "10", {"text"}),
        ("Contains", "pp", {"word", "lower"}),
        ("Contains", "ap", {"lower"}),
        ("Contains", "abc", {"array"}),
        ("Contains", "ab", set()),
        ("Contains", "10", {"text"}),
        ("Contains", "", {"text", "word", "lower"}),
        ("Contains", 10, {"array"}),
        ("Contains", True, {"array"}),
        ("Contains", 1, set()),
        ("Exists", None, ALL_VALUES - {"null", "missing"}),
        ("NotExists", None, {"null", "missing"}),
        ("In", [10, "apple", False], {"int", "lower"}),
        ("In", ["10", 10.5, True], {"text", "float", "bool"}),
        ("In", [1], {"one"}),
        ("In", ["nothing"], set()),
    ],
)
def test_operator_on_every_json_type(
    catalog: Catalog, operator: str, value: Any, expected: set[str]
) -> None:
    assert matching(catalog.values, Condition(VALUE, operator, value)) == expected


@pytest.mark.parametrize(
    ("path", "operator", "value", "expected"),
    [
        (("Value", EACH), "Equals", 10, {"array"}),
        (("Value", EACH), "Equals", True, {"array"}),
        (("Value", EACH), "Equals", 1, set()),
        (("Value", EACH), "Contains", "b", {"array"}),
        (("Value", EACH), "Exists", None, {"array"}),
        (("Value", EACH), "NotEquals", 10, ALL_VALUES - {"array"}),
        (("Value", "x"), "Equals", 1, {"object"}),
        (("Value", "x"), "NotExists", None, ALL_VALUES - {"object"}),
        (("Value", EACH, "x"), "Exists", None, set()),
    ],
)
def test_paths_into_objects_and_arrays(
    catalog: Catalog, path: tuple[Any, ...], operator: str, value: Any, expected: set[str]
) -> None:
    assert matching(catalog.values, Condition(path, operator, value)) == expected


def test_members_of_non_objects_and_elements_of_non_arrays_are_missing(catalog: Catalog) -> None:
    # "word" is a string, "array" an array, "object" an object: none walks on.
    assert matching(catalog.values, Condition(("Value", "0"), "Exists")) == set()
    assert matching(catalog.values, Condition(("Value", EACH), "Equals", "x")) == set()
    assert matching(catalog.values, Condition(("Value", EACH), "Equals", 1)) == set()


# Arrays of objects: EACH and Match ------------------------------------------------

ACC_MAX = ("Metrics", Match("MetricName", "acc"), "Max")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (Condition(ACC_MAX, "GreaterThan", 0.8), {"m-both"}),
        (Condition(ACC_MAX, "GreaterThan", 0.5), {"m-both", "m-loss-high"}),
        (Condition(ACC_MAX, "Equals", 0.9), {"m-both"}),
        (
            Condition(("Metrics", EACH, "Max"), "GreaterThan", 0.8),
            {"m-both", "m-loss-high", "m-odd"},
        ),
        (Condition(("Metrics", EACH, "Max"), "GreaterThan", 1), {"m-odd"}),
        (Condition(ACC_MAX, "Exists"), {"m-both", "m-loss-high"}),
        (Condition(ACC_MAX, "NotExists"), ALL_METRICS - {"m-both", "m-loss-high"} | {"m-none"}),
        (
            Condition(("Metrics", Match("MetricName", "acc")), "Exists"),
            {"m-both", "m-loss-high", "m-odd"},
        ),
        (Condition(("Metrics", Match("MetricName", 5), "Max"), "Equals", 2), {"m-odd"}),
        (Condition(("Metrics", Match("MetricName", "5"), "Max"), "Exists"), set()),
        (Condition(("Metrics", EACH), "Equals", "acc"), {"m-odd"}),
        (Condition(("Metrics", EACH), "Equals", 1), {"m-odd"}),
        (Condition(("Metrics",), "Contains", "acc"), {"m-odd"}),
        (
            Condition(("Metrics", EACH, "MetricName"), "NotEquals", "acc"),
            {"m-loss-only", "m-object", "m-none"},
        ),
        (Condition(("Metrics", "MetricName"), "Equals", "acc"), {"m-object"}),
        (
            Condition(("Metrics", Match("MetricName", "loss"), "Max"), "LessThan", 0.5),
            {"m-both", "m-loss-only"},
        ),
    ],
)
def test_each_and_match_over_arrays(catalog: Catalog, where: Condition, expected: set[str]) -> None:
    assert matching(catalog.metrics, where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (Condition(("A", "B", "C"), "Equals", 3), {"g-z"}),
        (Condition(("A", "B", "C"), "GreaterThan", 3), {"g-xy", "g-flat"}),
        (Condition(("A", "B"), "Exists"), {"g-xy", "g-z", "g-flat"}),
        (Condition(("A", "C"), "Exists"), set()),
        (Condition(("Groups", EACH, "Items", EACH, "Id"), "Equals", "x"), {"g-xy"}),
        (Condition(("Groups", EACH, "Items", EACH, "Id"), "In", ["y", "z"]), {"g-xy", "g-z"}),
        (Condition(("Groups", EACH, "Items", EACH, EACH, "Id"), "Equals", "x"), {"g-z"}),
        (Condition(("Groups", EACH, "Id"), "Equals", "x"), {"g-flat"}),
        (Condition(("Groups", EACH, "Items"), "Contains", "array"), {"g-xy"}),
        (Condition(("Groups", Match("Id", "x"), "Id"), "Exists"), {"g-flat"}),
    ],
)
def test_nested_paths(catalog: Catalog, where: Condition, expected: set[str]) -> None:
    assert matching(catalog.nested, where) == expected


TRAIN = Condition(("ChannelName",), "Equals", "train")
IN_BUCKET = Condition(("S3Uri",), "Contains", "bucket")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (
            AllOf(
                [
                    Condition(("Channels", EACH, "ChannelName"), "Equals", "train"),
                    Condition(("Channels", EACH, "S3Uri"), "Contains", "bucket"),
                ]
            ),
            {"c-same", "c-split"},
        ),
        (AnyElement(("Channels",), AllOf([TRAIN, IN_BUCKET])), {"c-same"}),
        (AnyElement(("Channels",), AnyOf([TRAIN, IN_BUCKET])), {"c-same", "c-split", "c-no-uri"}),
        (
            AnyElement(("Channels",), AllOf([TRAIN, Condition(("S3Uri",), "NotExists")])),
            {"c-no-uri"},
        ),
        (
            AnyElement(("Channels",), Condition(("ChannelName",), "NotEquals", "train")),
            {"c-same", "c-split"},
        ),
        (AnyElement(("Channels",), AllOf([])), {"c-same", "c-split", "c-no-uri"}),
        (
            AnyElement(("Groups",), AnyElement(("Items",), Condition(("Id",), "Equals", "x"))),
            {"g-xy"},
        ),
        (AnyElement(("Groups", EACH, "Items"), Condition(("Id",), "Equals", "z")), {"g-z"}),
        (AnyElement(("Groups",), Condition(("Items", EACH, EACH, "Id"), "Exists")), {"g-z"}),
        (AnyElement(("A",), Condition(("B",), "Exists")), set()),
    ],
)
def test_any_element_needs_one_element_to_satisfy_everything(
    catalog: Catalog, where: Expression, expected: set[str]
) -> None:
    assert matching(catalog.nested, where) == expected


@pytest.mark.parametrize(("key", "label"), sorted(SPECIAL_NAMES.items()))
def test_member_names_with_any_characters(catalog: Catalog, key: str, label: str) -> None:
    assert matching(catalog.names, Condition((key,), "Equals", label)) == {f"n-{label}"}
    assert matching(catalog.names, Condition((key,), "Exists")) == {f"n-{label}"}


def test_a_dotted_name_is_one_member(catalog: Catalog) -> None:
    assert matching(catalog.names, Condition(("a", "b"), "Equals", "nested")) == {"n-nested"}
    assert matching(catalog.names, Condition(("a",), "Exists")) == {"n-nested"}
    assert matching(catalog.names, Condition(("a.b",), "Exists")) == {"n-dot"}


def test_text_compares_by_code_point(catalog: Catalog) -> None:
    # U+1F600 sorts after U+FFFF by code point (and UTF-8 bytes), before it in UTF-16.
    text = ("Text",)
    assert matching(catalog.names, Condition(text, "GreaterThan", "a\uffff")) == {
        "n-text-astral",
        "n-text-bmp",
    }
    assert matching(catalog.names, Condition(text, "LessThan", "a\U0001f600")) == {"n-text-bmp"}
    assert matching(catalog.names, Condition(text, "Equals", "a\U0001f600b")) == {"n-text-astral"}
    assert matching(catalog.names, Condition(text, "Contains", "\U0001f600")) == {"n-text-astral"}
    where = Condition(text, "Exists")
    ascending = everything(catalog.names, where, DocumentSort(text, "Ascending", numeric=False))
    assert ascending == ["n-text-bmp", "n-text-astral"]


# Injection attempts are inert -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x' OR '1'='1",
        "'; DROP TABLE resources; --",
        '"; DROP TABLE resources; --',
        "%",
        "_",
        "\\",
        "$.Value",
        "') OR 1=1 --",
    ],
)
def test_injection_in_values_is_inert(catalog: Catalog, text: str) -> None:
    for operator in ("Equals", "Contains", "GreaterThan", "LessThan"):
        found = matching(catalog.values, Condition(VALUE, operator, text))
        expected = {
            "Equals": set(),
            "Contains": set(),
            "GreaterThan": {name for name, v in VALUES.items() if isinstance(v, str) and v > text},
            "LessThan": {name for name, v in VALUES.items() if isinstance(v, str) and v < text},
        }[operator]
        assert found == expected, operator
    assert matching(catalog.values, TagCondition(text, "Exists")) == set()
    assert len(everything(catalog.values, None)) == len(VALUES)


@pytest.mark.parametrize(
    "name",
    ["x') OR 1=1 --", "$[*]", "a'.'b", "*", "Value') --", "..", "[0]", "\\\\", "$.Value"],
)
def test_injection_in_member_names_is_inert(catalog: Catalog, name: str) -> None:
    assert matching(catalog.values, Condition((name,), "Exists")) == set()
    assert matching(catalog.values, Condition((name, EACH), "Exists")) == set()
    assert matching(catalog.values, Condition(("Metrics", Match(name, "acc")), "Exists")) == set()
    assert matching(catalog.values, Condition((name,), "NotExists")) == ALL_VALUES
    assert len(everything(catalog.values, None)) == len(VALUES)


def test_names_with_double_quotes_are_refused() -> None:
    with pytest.raises(QueryError, match="cannot be queried"):
        Condition(('a"b',), "Exists")
    with pytest.raises(QueryError, match="cannot be queried"):
        Condition(("Metrics", Match('"', "acc")), "Exists")
    with pytest.raises(QueryError, match="cannot be queried"):
        DocumentSort(('x"',))


# Tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (TagCondition("team", "Equals", "ml"), {"t-ml"}),
        (TagCondition("team", "NotEquals", "ml"), {"t-data", "t-none", "t-odd"}),
        (TagCondition("team", "Exists"), {"t-ml", "t-data"}),
        (TagCondition("team", "NotExists"), {"t-none", "t-odd"}),
        (TagCondition("team", "Contains", "at"), {"t-data"}),
        (TagCondition("team", "Contains", "A"), set()),
        (TagCondition("team", "In", ["ml", "other"]), {"t-ml"}),
        (TagCondition("team", "GreaterThan", "d"), {"t-ml", "t-data"}),
        (TagCondition("team", "LessThan", "e"), {"t-data"}),
        (TagCondition("env", "Equals", "prod"), {"t-ml"}),
        (TagCondition("Team", "Exists"), set()),
        (TagCondition("x' OR '1'='1", "Equals", "'; DROP TABLE tags; --"), {"t-odd"}),
        (TagCondition("x' OR '1'='1", "Equals", "x"), set()),
        (AllOf([TagCondition("team", "Exists"), TagCondition("env", "NotExists")]), {"t-data"}),
    ],
)
def test_tag_conditions(catalog: Catalog, where: Expression, expected: set[str]) -> None:
    assert matching(catalog.tagged, where) == expected


def test_tags_of_other_records_do_not_leak(catalog: Catalog) -> None:
    assert matching(catalog.values, TagCondition("team", "Exists")) == set()
    assert catalog.store.tags.list(arn_of("Tagged", "t-odd")) == TAGGED["t-odd"]


# AllOf / AnyOf --------------------------------------------------------------------

NUMBER = Condition(VALUE, "GreaterThanOrEqualTo", -1000)
STRING = Condition(VALUE, "GreaterThanOrEqualTo", "")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (AllOf([]), ALL_VALUES),
        (AnyOf([]), set()),
        (AllOf([NUMBER, Condition(VALUE, "LessThan", 5)]), {"one", "small"}),
        (
            AnyOf([Condition(VALUE, "Equals", "10"), Condition(VALUE, "Equals", 10)]),
            {"text", "int"},
        ),
        (
            AnyOf(
                [
                    AllOf([NUMBER, Condition(VALUE, "GreaterThan", 5)]),
                    AllOf(
                        [
                            STRING,
                            AnyOf(
                                [
                                    Condition(VALUE, "Contains", "pie"),
                                    Condition(VALUE, "Equals", "10"),
                                ]
                            ),
                        ]
                    ),
                ]
            ),
            {"int", "float", "word", "text"},
        ),
        (
            AllOf(
                [
                    AnyOf([NUMBER, STRING]),
                    Condition(VALUE, "NotEquals", 10),
                    Condition(VALUE, "NotEquals", "10"),
                ]
            ),
            {"float", "one", "small", "word", "lower"},
        ),
        (AllOf([AllOf([AllOf([AnyOf([Condition(VALUE, "NotExists")])])])]), {"null", "missing"}),
        (AnyOf([Condition(VALUE, "Exists"), Condition(VALUE, "NotExists")]), ALL_VALUES),
        (AllOf([Condition(VALUE, "Exists"), Condition(VALUE, "NotExists")]), set()),
    ],
)
def test_all_of_and_any_of_nest(catalog: Catalog, where: Expression, expected: set[str]) -> None:
    assert matching(catalog.values, where) == expected


def test_nesting_depth_is_limited(catalog: Catalog) -> None:
    where: Expression = Condition(VALUE, "Exists")
    for _ in range(40):
        where = AllOf([where])
    with pytest.raises(QueryError, match="nested"):
        catalog.values.query(where)


# Sorting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (DocumentSort(("Score",), "Ascending"), ["s-b", "s-a", "s-c", "s-f", "s-d", "s-e"]),
        (DocumentSort(("Score",), "Descending"), ["s-f", "s-c", "s-a", "s-b", "s-e", "s-d"]),
        (
            DocumentSort(("Label",), "Ascending", numeric=False),
            ["s-c", "s-b", "s-f", "s-a", "s-d", "s-e"],
        ),
        (
            DocumentSort(("Label",), "Descending", numeric=False),
            ["s-a", "s-f", "s-b", "s-c", "s-e", "s-d"],
        ),
        (DocumentSort(("Vals", EACH), "Ascending"), ["s-c", "s-a", "s-b", "s-d", "s-e", "s-f"]),
        (DocumentSort(("Vals", EACH), "Descending"), ["s-c", "s-a", "s-b", "s-f", "s-e", "s-d"]),
        (
            DocumentSort(("Vals", EACH), "Ascending", numeric=False),
            ["s-d", "s-a", "s-b", "s-c", "s-e", "s-f"],
        ),
        (DocumentSort(("Nothing",), "Ascending"), ["s-a", "s-b", "s-c", "s-d", "s-e", "s-f"]),
        (DocumentSort(("Nothing",), "Descending"), ["s-f", "s-e", "s-d", "s-c", "s-b", "s-a"]),
    ],
)
def test_document_sort_puts_missing_values_last(
    catalog: Catalog, sort: DocumentSort, expected: list[str]
) -> None:
    assert everything(catalog.sorted, None, sort) == expected


def test_sort_through_match(catalog: Catalog) -> None:
    descending = everything(catalog.metrics, None, DocumentSort(ACC_MAX, "Descending"))
    assert descending == ["m-both", "m-loss-high", "m-odd", "m-object", "m-none", "m-loss-only"]
    ascending = everything(
        catalog.metrics, Condition(ACC_MAX, "Exists"), DocumentSort(ACC_MAX, "Ascending")
    )
    assert ascending == ["m-loss-high", "m-both"]


def test_sort_and_filter_combine(catalog: Catalog) -> None:
    where = Condition(("Score",), "GreaterThanOrEqualTo", 2)
    assert everything(catalog.sorted, where, DocumentSort(("Score",), "Descending")) == [
        "s-f",
        "s-c",
        "s-a",
    ]


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_column_sorts_agree_with_list(store: MetadataStore, order: str) -> None:
    jobs = store.resources(KIND)
    for index, (status, minutes) in enumerate([("B", 3), ("A", 1), ("B", 1), ("C", 2), ("A", 3)]):
        created = T0 + timedelta(minutes=minutes)
        jobs.create(
            ResourceRecord(
                KIND,
                f"job-{index}",
                arn_of(KIND, f"job-{index}"),
                status,
                created,
                created + timedelta(seconds=index),
                {},
            )
        )
    for column in ("Name", "CreationTime", "LastModifiedTime", "Status"):
        listed, _ = jobs.list(sort_by=column, sort_order=order)
        queried, _ = jobs.query(sort=ColumnSort(column, order))
        assert [r.name for r in queried] == [r.name for r in listed], column
        paged = all_pages(jobs, None, ColumnSort(column, order), page_size=2)
        assert paged == [r.name for r in listed], column
    default, _ = jobs.query()
    assert default == jobs.list()[0]


def test_sort_validation() -> None:
    with pytest.raises(QueryError, match="sort on"):
        ColumnSort("Size")
    with pytest.raises(QueryError, match="Ascending or Descending"):
        DocumentSort(("Score",), "Sideways")
    with pytest.raises(QueryError, match="numeric"):
        DocumentSort(("Score",), "Ascending", numeric="yes")  # type: ignore[arg-type]


# Paging ---------------------------------------------------------------------------


def all_pages(
    repository: ResourceRepository, where: Expression | None, sort: Sort, page_size: int
) -> list[str]:
    names: list[str] = []
    token: str | None = None
    for _ in range(1000):
        page, token = repository.query(where, sort, max_results=page_size, next_token=token)
        assert len(page) <= page_size
        names += [item.name for item in page]
        if token is None:
            return names
        assert len(page) == page_size
    raise AssertionError("paging did not end")


def fill_for_paging(repository: ResourceRepository, count: int = 23) -> dict[str, dict[str, Any]]:
    """Many ties: 4 scores and 3 labels over 23 records, some without either."""
    documents: dict[str, dict[str, Any]] = {}
    for index in range(count):
        document: dict[str, Any] = {}
        if index % 5 != 4:
            document["Score"] = [0.5, 2, -1, 2.0][index % 4]
        if index % 7 != 6:
            document["Label"] = ["b", "a", "B"][index % 3]
        document["Metrics"] = [{"MetricName": "m", "Max": float(index % 3)}]
        name = f"p-{index:02d}"
        repository.create(record(name, document))
        documents[name] = document
    return documents


NUMBERS = (int, float)


def expected_order(
    documents: dict[str, dict[str, Any]],
    member: str,
    descending: bool,
    kind: type | tuple[type, ...],
) -> list[str]:
    """Names in the order a DocumentSort must give: values of type ``kind``, then the rest."""
    present = [
        (doc[member], name) for name, doc in documents.items() if isinstance(doc.get(member), kind)
    ]
    missing = [name for name, doc in documents.items() if not isinstance(doc.get(member), kind)]
    return [name for _, name in sorted(present, reverse=descending)] + sorted(
        missing, reverse=descending
    )


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
@pytest.mark.parametrize(("member", "numeric"), [("Score", True), ("Label", False)])
def test_paging_returns_every_record_once_in_order(
    store: MetadataStore, order: str, member: str, numeric: bool
) -> None:
    repository = store.resources(KIND)
    documents = fill_for_paging(repository)
    sort = DocumentSort((member,), order, numeric)
    expected = expected_order(documents, member, order == "Descending", NUMBERS if numeric else str)
    assert everything(repository, None, sort) == expected
    for page_size in (1, 2, 5, 22, 23, 24):
        assert all_pages(repository, None, sort, page_size) == expected, page_size


def test_paging_with_a_filter_and_a_match_sort(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    fill_for_paging(repository)
    where = Condition(("Metrics", Match("MetricName", "m"), "Max"), "GreaterThan", 0.5)
    sort = DocumentSort(("Metrics", Match("MetricName", "m"), "Max"), "Descending")
    expected = everything(repository, where, sort)
    assert expected == [
        f"p-{i:02d}" for i in (20, 17, 14, 11, 8, 5, 2, 22, 19, 16, 13, 10, 7, 4, 1)
    ]
    assert all_pages(repository, where, sort, 4) == expected


def test_paging_is_stable_under_inserts_and_deletes(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    documents = fill_for_paging(repository)
    sort = DocumentSort(("Score",), "Ascending")
    first, token = repository.query(None, sort, max_results=6)
    assert token is not None
    seen = [item.name for item in first]
    # Before the position: never shown. After it, or without a score: shown once.
    repository.create(record("new-early", {"Score": -5}))
    repository.create(record("new-late", {"Score": 100}))
    repository.create(record("new-missing", {}))
    repository.create(record("a-tie-before", {"Score": -1}))
    repository.create(record("a-same-score", {"Score": 0.5}))  # ties p-00, sorts before it
    repository.create(record("p-00a", {"Score": 0.5}))  # ties p-00, sorts after it
    repository.delete(seen[0])
    repository.delete("p-03")
    while token is not None:
        page, token = repository.query(None, sort, max_results=6, next_token=token)
        seen += [item.name for item in page]
    changed = {name: document for name, document in documents.items() if name != "p-03"}
    changed |= {"new-early": {"Score": -5}, "new-late": {"Score": 100}, "new-missing": {}}
    changed |= {"a-tie-before": {"Score": -1}, "a-same-score": {"Score": 0.5}}
    changed["p-00a"] = {"Score": 0.5}
    full = expected_order(changed, "Score", False, NUMBERS)
    assert seen[5] == "p-00"
    skipped = ("new-early", "a-tie-before", "a-same-score")
    assert seen == [name for name in full if name not in skipped]
    assert seen[:6] == [item.name for item in first]


def test_token_is_refused_for_another_query(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    fill_for_paging(repository)
    where = Condition(("Score",), "GreaterThan", 0)
    sort = DocumentSort(("Score",), "Descending")
    _, token = repository.query(where, sort, max_results=2)
    assert token is not None
    others: list[tuple[Expression | None, Sort]] = [
        (None, sort),
        (Condition(("Score",), "GreaterThan", 0.0), sort),
        (Condition(("Score",), "GreaterThan", 1), sort),
        (Condition(("Score",), "GreaterThanOrEqualTo", 0), sort),
        (Condition(("Label",), "GreaterThan", 0), sort),
        (AllOf([where]), sort),
        (AnyElement(("Scores",), where), sort),
        (where, DocumentSort(("Score",), "Ascending")),
        (where, DocumentSort(("Score",), "Descending", numeric=False)),
        (where, DocumentSort(("Label",), "Descending")),
        (where, ColumnSort("CreationTime", "Descending")),
    ]
    for other_where, other_sort in others:
        with pytest.raises(InvalidNextToken, match="different"):
            repository.query(other_where, other_sort, next_token=token)
    with pytest.raises(InvalidNextToken, match="different"):
        store.resources("Model").query(where, sort, next_token=token)
    with pytest.raises(InvalidNextToken):
        repository.list(next_token=token)
    _, list_token = repository.list(max_results=1)
    with pytest.raises(InvalidNextToken):
        repository.query(next_token=list_token)
    rest, _ = repository.query(where, sort, max_results=100, next_token=token)
    assert len(rest) == repository.count(where) - 2


def sorted_token(repository: ResourceRepository, sort: Sort) -> dict[str, Any]:
    _, token = repository.query(None, sort, max_results=2)
    assert token is not None
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token))
    return payload


@pytest.mark.parametrize(
    "position",
    [["text", "p-01"], [True, "p-01"], [1, 2], [1], [1, "p-01", "x"], "x", {"p": 1}],
)
def test_tampered_tokens_are_refused(store: MetadataStore, position: Any) -> None:
    repository = store.resources(KIND)
    fill_for_paging(repository)
    sort = DocumentSort(("Score",), "Descending")
    payload = sorted_token(repository, sort) | {"p": position}
    with pytest.raises(InvalidNextToken, match="malformed"):
        repository.query(None, sort, next_token=encode(payload))


def test_a_position_without_value_continues_among_the_missing(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    fill_for_paging(repository)
    sort = DocumentSort(("Score",), "Descending")
    payload = sorted_token(repository, sort) | {"p": [None, "p-10"]}
    records, token = repository.query(None, sort, next_token=encode(payload))
    assert ([item.name for item in records], token) == (["p-09", "p-04"], None)
    time_sort = ColumnSort("CreationTime", "Descending")
    payload = sorted_token(repository, time_sort) | {"p": [None, "p-10"]}
    with pytest.raises(InvalidNextToken, match="malformed"):
        repository.query(None, time_sort, next_token=encode(payload))
    payload["p"] = ["2024-05-01T12:00:00", "p-10"]
    with pytest.raises(InvalidNextToken, match="malformed"):
        repository.query(None, time_sort, next_token=encode(payload))


def encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize("token", ["not a token", "bm90IGpzb24=", "e30=", "W10=", ""])
def test_undecodable_tokens_are_refused(store: MetadataStore, token: str) -> None:
    with pytest.raises(InvalidNextToken):
        store.resources(KIND).query(next_token=token)


def test_time_sort_token_round_trips(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    for index in range(7):
        moment = T0 + timedelta(seconds=index % 3)
        repository.create(
            ResourceRecord(KIND, f"t{index}", arn_of(KIND, f"t{index}"), "S", moment, moment, {})
        )
    sort = ColumnSort("LastModifiedTime", "Ascending")
    assert all_pages(repository, None, sort, 2) == ["t0", "t3", "t6", "t1", "t4", "t2", "t5"]


# Several kinds at once ------------------------------------------------------------


def test_query_across_kinds(store: MetadataStore) -> None:
    for kind in ("TrainingJob", "Model", "Endpoint"):
        repository = store.resources(kind)
        for name, score in (("shared", 1), (f"own-{kind}", 2)):
            repository.create(record(name, {"Score": score}, kind))
    where = Condition(("Score",), "Exists")
    sort = DocumentSort(("Score",), "Ascending")
    records, token = store.query(["TrainingJob", "Model"], where, sort)
    assert token is None
    assert [(r.kind, r.name) for r in records] == [
        ("Model", "shared"),
        ("TrainingJob", "shared"),
        ("Model", "own-Model"),
        ("TrainingJob", "own-TrainingJob"),
    ]
    paged: list[tuple[str, str]] = []
    token = None
    while True:
        page, token = store.query(
            ["Model", "TrainingJob"], where, sort, max_results=1, next_token=token
        )
        paged += [(r.kind, r.name) for r in page]
        if token is None:
            break
    assert paged == [(r.kind, r.name) for r in records]
    assert store.count(["TrainingJob", "Model", "Endpoint"], where) == 6
    _, token = store.query(["Model", "Endpoint"], where, sort, max_results=1)
    with pytest.raises(InvalidNextToken):
        store.query(["Model"], where, sort, next_token=token)


# Validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Condition(VALUE, "Like", "x"), "unknown operator"),
        (lambda: Condition(VALUE, "GreaterThan", True), "cannot order booleans"),
        (lambda: Condition(VALUE, "Equals", None), "must be a string, number or boolean"),
        (lambda: Condition(VALUE, "Equals", [1]), "must be a string, number or boolean"),
        (lambda: Condition(VALUE, "Equals", float("nan")), "finite"),
        (lambda: Condition(VALUE, "LessThan", float("inf")), "finite"),
        (lambda: Condition(VALUE, "In", []), "non-empty list"),
        (lambda: Condition(VALUE, "In", "a,b"), "non-empty list"),
        (lambda: Condition(VALUE, "In", [None]), "In value"),
        (lambda: Condition(VALUE, "Exists", 1), "takes no value"),
        (lambda: Condition((), "Exists"), "at least one segment"),
        (lambda: Condition("Value", "Exists"), "sequence of segments"),
        (lambda: Condition(("a",) * 33, "Exists"), "at most"),
        (lambda: Condition((None,), "Exists"), "segment"),
        (lambda: Condition(("Value", 0), "Exists"), "segment"),
        (lambda: Condition(("a\x00",), "Exists"), "NUL"),
        (lambda: Condition(VALUE, "Equals", "a\x00b"), "NUL"),
        (lambda: Condition(VALUE, "In", ["a", "\x00"]), "NUL"),
        (lambda: TagCondition("k\x00", "Exists"), "NUL"),
        (lambda: Condition(("a", Match("f", None)), "Exists"), "Match value"),  # type: ignore[arg-type]
        (lambda: TagCondition("team", "Equals", 1), "tag values are strings"),
        (lambda: TagCondition("team", "In", ["a", 2]), "tag values are strings"),
        (lambda: TagCondition(1, "Exists"), "tag key"),  # type: ignore[arg-type]
        (lambda: AllOf([VALUE]), "not a query expression"),  # type: ignore[list-item]
        (lambda: AnyOf(Condition(VALUE, "Exists")), "must be a list"),  # type: ignore[arg-type]
        (lambda: AnyElement((), Condition(VALUE, "Exists")), "at least one segment"),
        (lambda: AnyElement(VALUE, "Value"), "not a query expression"),  # type: ignore[arg-type]
    ],
)
def test_invalid_conditions_are_refused(build: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        build()


def test_invalid_query_arguments_are_refused(store: MetadataStore) -> None:
    repository = store.resources(KIND)
    with pytest.raises(QueryError, match="max_results"):
        repository.query(max_results=0)
    with pytest.raises(QueryError, match="not a query expression"):
        repository.query({"Name": "x"})  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="sort"):
        repository.query(sort="Name")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="kinds"):
        store.query([])
    with pytest.raises(ValueError):
        repository.query(max_results=-1)


def test_conditions_are_values() -> None:
    assert Condition(["a", EACH], "Equals", 1) == Condition(("a", EACH), "Equals", 1)
    assert hash(Condition(("a",), "In", [1, 2])) == hash(Condition(("a",), "In", (1, 2)))
    assert repr(EACH) == "EACH"
