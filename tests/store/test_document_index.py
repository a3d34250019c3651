"""Contract of the document index: indexed queries give exactly the unindexed results.

Every test runs on SQLite and PostgreSQL. Two handles open the same database: one
has declared the document index of the kinds (and uses it), the other has not
(and reads the documents), so each query is answered both ways over the same rows
and must agree on the records, their order, every page and the counts. Other tests
show the index is really consulted, and kept in step by creates, modifies, deletes
and declarations.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from sagebox.store import (
    ANY_MEMBER,
    EACH,
    AllOf,
    AnyElement,
    AnyOf,
    ByField,
    ColumnSort,
    Condition,
    DocumentSort,
    IndexedPath,
    Match,
    MetadataStore,
    ResourceRecord,
    TagCondition,
)
from sagebox.store.query import Expression, Sort
from sagebox.store.tables import document_numbers, document_texts, indexed_kinds
from tests.postgres_server import PostgresServer

KIND = "TrialComponent"
OTHER = "Experiment"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
METRIC_NAMES = ("acc", "loss", "auc")
STATS = ("Max", "Min", "Last")
PATHS = [
    *(IndexedPath(("Metrics", ByField("MetricName"), stat)) for stat in STATS),
    IndexedPath(("HyperParameters", ANY_MEMBER), numeric_strings=True),
    IndexedPath(("Parameters", ANY_MEMBER, "NumberValue")),
    IndexedPath(("Parameters", ANY_MEMBER, "StringValue")),
    IndexedPath(("Score",)),
    IndexedPath(("Label",)),
    IndexedPath(("Parents", EACH, "ExperimentName")),
]
HYPERPARAMETER_TEXTS = [
    "0.1",
    "0.25",
    "1e-3",
    "2",
    "10",
    "-1.5",
    "01",
    " 1",
    "1.",
    "abc",
    "1e999",
    "3E+2",
    "",
]


def arn_of(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:000000000000:{kind.lower()}/{name}"


def random_document(rng: random.Random) -> dict[str, Any]:
    """Trial-component-like, with the oddities a query must treat exactly alike."""
    document: dict[str, Any] = {}
    metrics: list[Any] = []
    for _ in range(rng.randint(0, 4)):
        metric: dict[str, Any] = {"MetricName": rng.choice(METRIC_NAMES)}
        for stat in STATS:
            if rng.random() < 0.85:
                metric[stat] = rng.choice([round(rng.uniform(-1, 1), 2), rng.randint(-2, 2)])
        metrics.append(metric)
    if rng.random() < 0.1:
        metrics += [{"MetricName": 5, "Max": 1}, "acc", None, {"MetricName": "acc", "Max": "0.5"}]
    if rng.random() < 0.1:
        metrics.append({"MetricName": "acc", "Max": True})
    if metrics or rng.random() < 0.5:
        document["Metrics"] = metrics if rng.random() < 0.95 else {"MetricName": "acc", "Max": 1}
    if rng.random() < 0.8:
        names = rng.sample(["eta", "max_depth", "objective", "odd"], rng.randint(0, 4))
        document["HyperParameters"] = {name: rng.choice(HYPERPARAMETER_TEXTS) for name in names}
        if rng.random() < 0.1:
            document["HyperParameters"]["eta"] = rng.choice([0.3, 7, None, False])
    if rng.random() < 0.7:
        document["Parameters"] = {
            "lr": {"NumberValue": rng.choice([0.01, 0.1, 0.5, 1])},
            "kind": {"StringValue": rng.choice(["a", "b", "B", "é", "😀"])},
        }
    score_choices = [1, 2, 2.5, -3, "2", "x", None, True]
    if rng.random() < 0.8:
        document["Score"] = rng.choice(score_choices)
    if rng.random() < 0.7:
        document["Label"] = rng.choice(
            ["alpha", "Beta", "beta", "gamma", "a\U0001f600", "a\uffff", 3]
        )
    parents = [
        {"TrialName": f"t{rng.randint(0, 3)}", "ExperimentName": rng.choice(["e1", "e2", "e3"])}
        for _ in range(rng.randint(0, 2))
    ]
    if parents:
        document["Parents"] = parents
    return document


def fill(store: MetadataStore, kind: str, count: int, seed: int) -> dict[str, dict[str, Any]]:
    rng = random.Random(seed)
    repository = store.resources(kind)
    documents: dict[str, dict[str, Any]] = {}
    for index in range(count):
        name = f"r-{rng.randint(0, 9)}{index:03d}"
        created = T0 + timedelta(seconds=rng.randint(0, 5))
        document = random_document(rng)
        repository.create(
            ResourceRecord(kind, name, arn_of(kind, name), "Completed", created, created, document)
        )
        if rng.random() < 0.3:
            store.tags.add(
                arn_of(kind, name), [{"Key": "team", "Value": rng.choice(["ml", "data"])}]
            )
        documents[name] = document
    return documents


class Pair:
    """The same database seen through an indexed and an unindexed handle."""

    def __init__(self, url: str) -> None:
        self.indexed = MetadataStore(url)
        for kind in (KIND, OTHER):
            self.indexed.declare_document_index(kind, PATHS)
        self.plain = MetadataStore(url)

    def close(self) -> None:
        self.indexed.close()
        self.plain.close()


def open_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Any]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('index') / 'sagebox.db'}", None
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(), server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    url, server = open_url(request, tmp_path_factory)
    both = Pair(url)
    try:
        fill(both.indexed, KIND, 90, seed=1)
        fill(both.indexed, OTHER, 30, seed=2)
        yield both
    finally:
        both.close()
        if server is not None:
            server.drop_database(url)


def pages(
    store: MetadataStore, kinds: list[str], where: Expression | None, sort: Sort | None, size: int
) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    token: str | None = None
    for _ in range(500):
        page, token = store.query(kinds, where, sort, max_results=size, next_token=token)
        found.append([(record.kind, record.name) for record in page])
        if token is None:
            return found
    raise AssertionError("paging did not end")


def assert_same(
    pair: Pair, where: Expression | None, sort: Sort | None, kinds: list[str] | None = None
) -> None:
    kinds = kinds or [KIND]
    everything = pages(pair.plain, kinds, where, sort, 1000)[0]
    assert pages(pair.indexed, kinds, where, sort, 1000)[0] == everything
    for size in (13,):
        expected = pages(pair.plain, kinds, where, sort, size)
        assert pages(pair.indexed, kinds, where, sort, size) == expected, size
        assert [item for page in expected for item in page] == everything
    assert pair.indexed.count(kinds, where) == pair.plain.count(kinds, where) == len(everything)


def acc(stat: str = "Max") -> tuple[Any, ...]:
    return ("Metrics", Match("MetricName", "acc"), stat)


SORTS: list[Sort | None] = [
    DocumentSort(acc(), "Descending"),
    DocumentSort(acc(), "Ascending"),
    DocumentSort(acc("Min"), "Ascending"),
    DocumentSort(("Metrics", Match("MetricName", "nothing"), "Max"), "Descending"),
    DocumentSort(("Score",), "Descending"),
    DocumentSort(("Score",), "Ascending"),
    DocumentSort(("Score",), "Descending", numeric=False),
    DocumentSort(("Label",), "Ascending", numeric=False),
    DocumentSort(("Label",), "Descending", numeric=False),
    DocumentSort(("HyperParameters", "eta"), "Descending", numeric_strings=True),
    DocumentSort(("HyperParameters", "eta"), "Ascending", numeric_strings=True),
    DocumentSort(("HyperParameters", "eta"), "Ascending", numeric=False),
    DocumentSort(("Parameters", "lr", "NumberValue"), "Descending"),
    DocumentSort(("Parents", EACH, "ExperimentName"), "Ascending", numeric=False),
    DocumentSort(("Metrics", EACH, "Max"), "Descending"),  # not indexed: EACH is not ByField
    ColumnSort("CreationTime", "Descending"),
    ColumnSort("Name", "Ascending"),
    None,
]

WHERES: list[Expression | None] = [
    None,
    Condition(acc(), "GreaterThan", 0.2),
    AllOf([Condition(acc(), "GreaterThan", -0.5), TagCondition("team", "Exists")]),
    AnyOf([Condition(("Score",), "Equals", 2), Condition(("Label",), "LessThan", "b")]),
    Condition(("HyperParameters", "eta"), "LessThan", 1, numeric_strings=True),
]


@pytest.mark.parametrize("sort", SORTS, ids=repr)
@pytest.mark.parametrize("where", WHERES, ids=repr)
def test_sorts_agree_with_and_without_the_index(
    pair: Pair, where: Expression | None, sort: Sort | None
) -> None:
    assert_same(pair, where, sort)


CONDITIONS: list[Expression] = [
    *(
        Condition(acc(), operator, 0.2)
        for operator in (
            "Equals",
            "NotEquals",
            "GreaterThan",
            "GreaterThanOrEqualTo",
            "LessThan",
            "LessThanOrEqualTo",
        )
    ),
    Condition(acc(), "Equals", 1),
    Condition(acc(), "In", [1, 0, -2]),
    Condition(acc(), "Equals", "0.5"),
    Condition(acc(), "Equals", True),
    Condition(acc(), "Exists"),
    Condition(acc(), "NotExists"),
    Condition(("Metrics", Match("MetricName", 5), "Max"), "Equals", 1),
    Condition(("Score",), "GreaterThanOrEqualTo", 2),
    Condition(("Score",), "Equals", "2"),
    Condition(("Score",), "In", [2, "x"]),
    Condition(("Score",), "NotEquals", 2),
    Condition(("Label",), "GreaterThan", "beta"),
    Condition(("Label",), "LessThanOrEqualTo", "a\uffff"),
    Condition(("Label",), "In", ["alpha", "gamma"]),
    Condition(("Label",), "NotEquals", "alpha"),
    Condition(("Label",), "Contains", "et"),
    Condition(("HyperParameters", "eta"), "GreaterThan", 0.2, numeric_strings=True),
    Condition(("HyperParameters", "eta"), "Equals", 300, numeric_strings=True),
    Condition(("HyperParameters", "eta"), "In", [1, 2, 0.3], numeric_strings=True),
    Condition(("HyperParameters", "eta"), "NotEquals", 0.1, numeric_strings=True),
    Condition(("HyperParameters", "eta"), "GreaterThan", 0.2),
    Condition(("HyperParameters", "eta"), "Equals", "01"),
    Condition(("Parameters", "kind", "StringValue"), "GreaterThanOrEqualTo", "b"),
    Condition(("Parents", EACH, "ExperimentName"), "Equals", "e2"),
    Condition(("Parents", EACH, "ExperimentName"), "NotEquals", "e2"),
    AllOf(
        [
            Condition(acc(), "LessThan", 0),
            Condition(("Parents", EACH, "ExperimentName"), "In", ["e1", "e3"]),
        ]
    ),
    AnyOf([Condition(acc(), "LessThan", -0.9), AllOf([Condition(("Score",), "LessThan", 0)])]),
    AnyElement(
        ("Metrics",),
        AllOf(
            [Condition(("MetricName",), "Equals", "acc"), Condition(("Max",), "GreaterThan", 0.5)]
        ),
    ),
    AllOf([Condition(acc("Last"), "GreaterThan", 0.9), Condition(("Label",), "Exists")]),
]


@pytest.mark.parametrize("where", CONDITIONS, ids=repr)
def test_filters_agree_with_and_without_the_index(pair: Pair, where: Expression) -> None:
    assert_same(pair, where, None)
    assert_same(pair, where, DocumentSort(("Score",), "Ascending"))


def test_counts_up_to_a_limit_agree(pair: Pair) -> None:
    for where in [None, *CONDITIONS]:
        total = pair.plain.count([KIND], where)
        for limit in (0, 1, 5, 1000):
            assert pair.indexed.count([KIND], where, limit=limit) == min(total, limit)


@pytest.mark.parametrize("sort", SORTS[:6], ids=repr)
def test_queries_over_several_kinds_agree(pair: Pair, sort: Sort | None) -> None:
    assert_same(pair, Condition(acc(), "GreaterThan", 0), sort, kinds=[KIND, OTHER])
    assert_same(pair, None, sort, kinds=[KIND, OTHER])


def test_tokens_of_one_plan_continue_in_the_other(pair: Pair) -> None:
    where, sort = Condition(acc(), "GreaterThan", -1), DocumentSort(acc(), "Descending")
    expected = [item for page in pages(pair.plain, [KIND], where, sort, 1000) for item in page]
    first, token = pair.indexed.query([KIND], where, sort, max_results=4)
    second, token = pair.plain.query([KIND], where, sort, max_results=5, next_token=token)
    third, _ = pair.indexed.query([KIND], where, sort, max_results=1000, next_token=token)
    names = [(r.kind, r.name) for r in first + second + third]
    assert names == expected


# The index is consulted, and kept in step ---------------------------------------------


@pytest.fixture
def indexed(store_url: str) -> Iterator[MetadataStore]:
    opened = MetadataStore(store_url)
    opened.declare_document_index(KIND, PATHS)
    yield opened
    opened.close()


def record(name: str, document: dict[str, Any], kind: str = KIND) -> ResourceRecord:
    return ResourceRecord(kind, name, arn_of(kind, name), "Completed", T0, T0, document)


def metric(value: float) -> dict[str, Any]:
    return {"Metrics": [{"MetricName": "acc", "Max": value}]}


def by_acc(store: MetadataStore, where: Expression | None = None) -> list[str]:
    records, _ = store.query([KIND], where, DocumentSort(acc(), "Descending"), max_results=100)
    return [item.name for item in records]


def index_rows(store_url: str) -> int:
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return sum(
                int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
                for table in (document_numbers, document_texts)
            )
    finally:
        engine.dispose()


def test_queries_read_the_index_rows(indexed: MetadataStore, store_url: str) -> None:
    """Emptying the index tables behind the store's back changes indexed answers only."""
    for name, value in (("low", 0.1), ("high", 0.9), ("mid", 0.5)):
        indexed.resources(KIND).create(record(name, metric(value)))
    assert by_acc(indexed) == ["high", "mid", "low"]
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.delete(document_numbers))
    engine.dispose()
    assert by_acc(indexed) == ["mid", "low", "high"]  # every record "has no value": by name
    assert indexed.count([KIND], Condition(acc(), "GreaterThan", 0.3)) == 0
    plain = MetadataStore(store_url)
    try:
        assert by_acc(plain) == ["high", "mid", "low"]
    finally:
        plain.close()


def test_writes_keep_the_index_in_step(indexed: MetadataStore, store_url: str) -> None:
    jobs = indexed.resources(KIND)
    for name, value in (("a", 0.1), ("b", 0.9), ("c", 0.5)):
        jobs.create(record(name, metric(value)))
    jobs.modify("a", lambda r: r.document["Metrics"][0].update(Max=0.95))
    jobs.modify("c", lambda r: r.document.pop("Metrics"))
    jobs.modify("b", lambda r: setattr(r, "status", "Failed"))  # same entries: rows untouched
    assert by_acc(indexed) == ["a", "b", "c"]
    assert by_acc(indexed, Condition(acc(), "LessThan", 0.92)) == ["b"]
    jobs.delete("b")
    assert by_acc(indexed) == ["a", "c"]
    with pytest.raises(ZeroDivisionError):
        jobs.modify("a", lambda r: [r.document["Metrics"][0].update(Max=0.0), 1 / 0])
    assert by_acc(indexed, Condition(acc(), "GreaterThan", 0.9)) == ["a"]
    jobs.delete("a")
    jobs.delete("c")
    assert index_rows(store_url) == 0


def test_declaring_indexes_records_stored_before(store_url: str) -> None:
    store = MetadataStore(store_url)
    try:
        for name, value in (("x", 0.3), ("y", 0.7)):
            store.resources(KIND).create(record(name, metric(value)))
        assert index_rows(store_url) == 0
        assert store.declare_document_index(KIND, PATHS) == 2
        assert index_rows(store_url) > 0
        assert by_acc(store) == ["y", "x"]
    finally:
        store.close()
    again = MetadataStore(store_url)
    try:
        assert again.declare_document_index(KIND, PATHS) == 0  # the built index still fits
        assert again.declare_document_index(KIND, PATHS[:1]) == 2  # another declaration: rebuilt
        assert by_acc(again) == ["y", "x"]
    finally:
        again.close()


def test_a_kind_written_without_its_declaration_is_rebuilt(store_url: str) -> None:
    first = MetadataStore(store_url)
    first.declare_document_index(KIND, PATHS)
    first.resources(KIND).create(record("kept", metric(0.2)))
    first.close()
    unaware = MetadataStore(store_url)  # e.g. a release that no longer declares the kind
    unaware.resources(KIND).create(record("unindexed", metric(0.8)))
    unaware.close()
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(indexed_kinds)) == 0
    engine.dispose()
    later = MetadataStore(store_url)
    try:
        assert later.declare_document_index(KIND, PATHS) == 2
        assert by_acc(later) == ["unindexed", "kept"]
    finally:
        later.close()


def test_numeric_strings_are_json_numbers_without_space(
    indexed: MetadataStore, store_url: str
) -> None:
    spelled = {"a": "0.1", "b": "1e-3", "c": "3E+2", "d": 7, "e": "-0", "f": "12.50"}
    not_numbers = {"g": " 1", "h": "01", "i": "1.", "j": "1e999", "k": "abc", "l": "", "m": "+1"}
    for name, value in {**spelled, **not_numbers}.items():
        indexed.resources(KIND).create(record(name, {"HyperParameters": {"eta": value}}))
    eta = ("HyperParameters", "eta")
    plain = MetadataStore(store_url)
    try:
        for store in (indexed, plain):
            exists = Condition(eta, "GreaterThan", -1e9, numeric_strings=True)
            assert store.count([KIND], exists) == len(spelled)
            ordered, _ = store.query(
                [KIND], exists, DocumentSort(eta, "Ascending", numeric_strings=True)
            )
            assert [r.name for r in ordered] == ["e", "b", "a", "d", "f", "c"]
            assert store.count([KIND], Condition(eta, "Equals", 12.5, numeric_strings=True)) == 1
    finally:
        plain.close()
