"""Contract of the metadata store; every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sagebox.store import (
    AlreadyExists,
    InvalidNextToken,
    MetadataStore,
    NotFound,
    ResourceRecord,
    ResourceRepository,
)

KIND = "TrainingJob"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def make_record(
    name: str,
    *,
    status: str = "InProgress",
    created: datetime = T0,
    modified: datetime | None = None,
    parent_arn: str | None = None,
    document: dict[str, object] | None = None,
) -> ResourceRecord:
    return ResourceRecord(
        kind=KIND,
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{name.lower()}",
        status=status,
        creation_time=created,
        last_modified_time=modified or created,
        document=document if document is not None else {"TrainingJobName": name},
        parent_arn=parent_arn,
    )


@pytest.fixture
def jobs(store: MetadataStore) -> ResourceRepository:
    return store.resources(KIND)


@pytest.fixture
def populated(jobs: ResourceRepository) -> ResourceRepository:
    """Six jobs with distinct creation and modification times and shared statuses."""
    specs = [
        ("alpha", "Completed", 0, 50),
        ("Bravo", "InProgress", 10, 10),
        ("charlie", "Failed", 20, 40),
        ("delta-job", "Completed", 30, 30),
        ("echo", "InProgress", 40, 20),
        ("foxtrot", "Stopped", 50, 0),
    ]
    for name, status, created, modified in specs:
        jobs.create(
            make_record(
                name,
                status=status,
                created=T0 + timedelta(minutes=created),
                modified=T0 + timedelta(hours=1, minutes=modified),
                parent_arn="arn:tuning/parent" if name in ("charlie", "echo") else None,
            )
        )
    return jobs


def names(records: list[ResourceRecord]) -> list[str]:
    return [record.name for record in records]


# create / get ----------------------------------------------------------------


def test_create_then_get_and_get_by_arn(jobs: ResourceRepository) -> None:
    document = {"a": 0.1, "b": 1e-300, "c": [1, 2.5, {"d": None, "e": [True, "x"]}], "f": {}}
    created = jobs.create(make_record("job-1", document=document, parent_arn="arn:parent"))
    fetched = jobs.get("job-1")
    assert fetched == created
    assert fetched is not None
    assert fetched.document == document
    assert fetched.parent_arn == "arn:parent"
    assert jobs.get_by_arn(created.arn) == created
    assert jobs.get("missing") is None
    assert jobs.get_by_arn("arn:missing") is None


def test_kinds_are_separate(store: MetadataStore, jobs: ResourceRepository) -> None:
    jobs.create(make_record("shared"))
    models = store.resources("Model")
    assert models.get("shared") is None
    assert models.list() == ([], None)
    models.create(
        ResourceRecord("Model", "shared", "arn:model/shared", "Created", T0, T0, {"ModelName": "x"})
    )
    assert models.get("shared") is not None
    assert jobs.get("shared") is not None


def test_create_twice_raises_already_exists(jobs: ResourceRepository) -> None:
    jobs.create(make_record("dup"))
    with pytest.raises(AlreadyExists) as raised:
        jobs.create(make_record("dup", status="Completed"))
    assert (raised.value.kind, raised.value.name) == (KIND, "dup")
    assert "dup" in str(raised.value)
    stored = jobs.get("dup")
    assert stored is not None
    assert stored.status == "InProgress"


def test_concurrent_creates_of_one_name_let_exactly_one_win(jobs: ResourceRepository) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            jobs.create(make_record("race"))
            outcomes.append("created")
        except AlreadyExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] + ["exists"] * 7


def test_timestamps_come_back_aware_utc(jobs: ResourceRepository) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=plus_two)
    jobs.create(make_record("tz", created=local))
    fetched = jobs.get("tz")
    assert fetched is not None
    for value in (fetched.creation_time, fetched.last_modified_time):
        assert value.utcoffset() == timedelta(0)
        assert value == datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def test_naive_timestamps_are_refused(jobs: ResourceRepository) -> None:
    with pytest.raises(ValueError, match="time zone"):
        jobs.create(make_record("naive", created=datetime(2024, 1, 1)))
    assert jobs.get("naive") is None


# modify / delete -------------------------------------------------------------


def test_modify_changes_state_in_place(jobs: ResourceRepository) -> None:
    jobs.create(make_record("m"))
    later = T0 + timedelta(minutes=5)

    def complete(record: ResourceRecord) -> None:
        record.status = "Completed"
        record.last_modified_time = later
        record.parent_arn = "arn:tuning/t"
        record.document["FinalMetric"] = {"Value": 0.123456789012345}

    returned = jobs.modify("m", complete)
    fetched = jobs.get("m")
    assert fetched == returned
    assert fetched is not None
    assert fetched.status == "Completed"
    assert fetched.last_modified_time == later
    assert fetched.creation_time == T0
    assert fetched.parent_arn == "arn:tuning/t"
    assert fetched.document["FinalMetric"] == {"Value": 0.123456789012345}


def test_modify_that_raises_writes_nothing(jobs: ResourceRepository) -> None:
    jobs.create(make_record("m"))

    def half_done(record: ResourceRecord) -> None:
        record.status = "Failed"
        record.document["Broken"] = True
        raise RuntimeError("change failed")

    with pytest.raises(RuntimeError, match="change failed"):
        jobs.modify("m", half_done)
    fetched = jobs.get("m")
    assert fetched is not None
    assert fetched.status == "InProgress"
    assert "Broken" not in fetched.document


def test_modify_missing_raises_not_found(jobs: ResourceRepository) -> None:
    with pytest.raises(NotFound) as raised:
        jobs.modify("ghost", lambda record: None)
    assert (raised.value.kind, raised.value.name) == (KIND, "ghost")


def test_delete(jobs: ResourceRepository) -> None:
    jobs.create(make_record("d"))
    jobs.delete("d")
    assert jobs.get("d") is None
    with pytest.raises(NotFound):
        jobs.delete("d")
    jobs.create(make_record("d"))
    assert jobs.get("d") is not None


def test_concurrent_modify_is_serialised(jobs: ResourceRepository) -> None:
    jobs.create(make_record("counter", document={"count": 0}))
    errors: list[BaseException] = []

    def increment(record: ResourceRecord) -> None:
        record.document["count"] += 1

    def worker() -> None:
        try:
            for _ in range(25):
                jobs.modify("counter", increment)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    fetched = jobs.get("counter")
    assert fetched is not None
    assert fetched.document["count"] == 200


# list: filters ---------------------------------------------------------------


def test_list_everything_defaults_to_newest_first(populated: ResourceRepository) -> None:
    records, token = populated.list()
    assert token is None
    assert names(records) == ["foxtrot", "echo", "delta-job", "charlie", "Bravo", "alpha"]


def test_list_name_contains_is_case_insensitive(populated: ResourceRepository) -> None:
    assert names(populated.list(name_contains="BRAV")[0]) == ["Bravo"]
    assert names(populated.list(name_contains="ha", sort_order="Ascending")[0]) == [
        "alpha",
        "charlie",
    ]
    assert names(populated.list(name_contains="-")[0]) == ["delta-job"]
    assert populated.list(name_contains="%")[0] == []
    assert populated.list(name_contains="_")[0] == []


def test_list_status_equals(populated: ResourceRepository) -> None:
    records, _ = populated.list(status_equals="Completed", sort_order="Ascending")
    assert names(records) == ["alpha", "delta-job"]


def test_list_creation_time_bounds_are_strict(populated: ResourceRepository) -> None:
    after, before = T0 + timedelta(minutes=10), T0 + timedelta(minutes=40)
    records, _ = populated.list(creation_time_after=after, sort_order="Ascending")
    assert names(records) == ["charlie", "delta-job", "echo", "foxtrot"]
    records, _ = populated.list(creation_time_before=before, sort_order="Ascending")
    assert names(records) == ["alpha", "Bravo", "charlie", "delta-job"]
    records, _ = populated.list(
        creation_time_after=after, creation_time_before=before, sort_order="Ascending"
    )
    assert names(records) == ["charlie", "delta-job"]


def test_list_last_modified_time_bounds_are_strict(populated: ResourceRepository) -> None:
    base = T0 + timedelta(hours=1)
    records, _ = populated.list(
        last_modified_time_after=base + timedelta(minutes=20),
        last_modified_time_before=base + timedelta(minutes=50),
        sort_by="LastModifiedTime",
        sort_order="Ascending",
    )
    assert names(records) == ["delta-job", "charlie"]


def test_list_time_bounds_accept_other_offsets(populated: ResourceRepository) -> None:
    minus_five = timezone(timedelta(hours=-5))
    after = (T0 + timedelta(minutes=40)).astimezone(minus_five)
    assert names(populated.list(creation_time_after=after)[0]) == ["foxtrot"]


def test_list_parent_arn(populated: ResourceRepository) -> None:
    records, _ = populated.list(parent_arn="arn:tuning/parent", sort_order="Ascending")
    assert names(records) == ["charlie", "echo"]


def test_list_filters_combine(populated: ResourceRepository) -> None:
    records, _ = populated.list(status_equals="InProgress", name_contains="o")
    assert names(records) == ["echo", "Bravo"]


# list: sorting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort_by", "ascending"),
    [
        ("Name", ["Bravo", "alpha", "charlie", "delta-job", "echo", "foxtrot"]),
        ("CreationTime", ["alpha", "Bravo", "charlie", "delta-job", "echo", "foxtrot"]),
        ("LastModifiedTime", ["foxtrot", "Bravo", "echo", "delta-job", "charlie", "alpha"]),
        ("Status", ["alpha", "delta-job", "charlie", "Bravo", "echo", "foxtrot"]),
    ],
)
def test_list_sort_orders(
    populated: ResourceRepository, sort_by: str, ascending: list[str]
) -> None:
    records, _ = populated.list(sort_by=sort_by, sort_order="Ascending")
    assert names(records) == ascending
    records, _ = populated.list(sort_by=sort_by, sort_order="Descending")
    assert names(records) == ascending[::-1]


def test_list_rejects_unknown_sort(jobs: ResourceRepository) -> None:
    with pytest.raises(ValueError, match="sort_by"):
        jobs.list(sort_by="Size")
    with pytest.raises(ValueError, match="sort_order"):
        jobs.list(sort_order="Sideways")
    with pytest.raises(ValueError, match="max_results"):
        jobs.list(max_results=0)


# list: pagination ------------------------------------------------------------


@pytest.mark.parametrize("sort_by", ["Name", "CreationTime", "Status", "LastModifiedTime"])
@pytest.mark.parametrize("sort_order", ["Ascending", "Descending"])
def test_pagination_yields_every_record_once(
    jobs: ResourceRepository, sort_by: str, sort_order: str
) -> None:
    # Many ties: 23 jobs over 4 creation times and 3 statuses.
    for index in range(23):
        jobs.create(
            make_record(
                f"job-{index:02d}",
                status=["Completed", "Failed", "InProgress"][index % 3],
                created=T0 + timedelta(seconds=index % 4),
                modified=T0 + timedelta(seconds=index % 2),
            )
        )
    everything, token = jobs.list(sort_by=sort_by, sort_order=sort_order, max_results=100)
    assert token is None
    pages: list[list[str]] = []
    token = None
    while True:
        page, token = jobs.list(
            sort_by=sort_by, sort_order=sort_order, max_results=5, next_token=token
        )
        pages.append(names(page))
        if token is None:
            break
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [name for page in pages for name in page] == names(everything)
    assert len(set(names(everything))) == 23


def test_pagination_ends_without_token_on_exact_fit(populated: ResourceRepository) -> None:
    first, token = populated.list(max_results=3)
    assert token is not None
    second, token = populated.list(max_results=3, next_token=token)
    assert token is None
    assert len(first) == len(second) == 3


def test_pagination_survives_changes_between_pages(populated: ResourceRepository) -> None:
    first, token = populated.list(sort_order="Ascending", max_results=2)
    populated.delete(first[0].name)
    populated.create(make_record("early", created=T0 - timedelta(days=1)))
    rest, token = populated.list(sort_order="Ascending", max_results=10, next_token=token)
    assert token is None
    assert names(first) + names(rest) == [
        "alpha",
        "Bravo",
        "charlie",
        "delta-job",
        "echo",
        "foxtrot",
    ]


@pytest.mark.parametrize("token", ["not a token", "bm90IGpzb24=", "e30=", "W10=", ""])
def test_undecodable_token_is_invalid(populated: ResourceRepository, token: str) -> None:
    with pytest.raises(InvalidNextToken):
        populated.list(next_token=token)


def test_token_reused_with_other_query_is_invalid(populated: ResourceRepository) -> None:
    _, token = populated.list(status_equals="Completed", max_results=1)
    assert token is not None
    with pytest.raises(InvalidNextToken, match="different"):
        populated.list(status_equals="InProgress", max_results=1, next_token=token)
    with pytest.raises(InvalidNextToken):
        populated.list(status_equals="Completed", sort_by="Name", next_token=token)
    with pytest.raises(InvalidNextToken):
        populated.list(status_equals="Completed", sort_order="Ascending", next_token=token)
    records, _ = populated.list(status_equals="Completed", max_results=5, next_token=token)
    assert names(records) == ["alpha"]


def test_token_from_another_kind_is_invalid(
    store: MetadataStore, populated: ResourceRepository
) -> None:
    _, token = populated.list(max_results=1)
    with pytest.raises(InvalidNextToken):
        store.resources("Model").list(max_results=1, next_token=token)


# list_by_status ----------------------------------------------------------------


def test_list_by_status(store: MetadataStore, populated: ResourceRepository) -> None:
    assert names(populated.list_by_status(["InProgress", "Stopped"])) == [
        "Bravo",
        "echo",
        "foxtrot",
    ]
    assert populated.list_by_status([]) == []
    assert store.resources("Model").list_by_status(["InProgress"]) == []


# tags --------------------------------------------------------------------------


def test_tags_add_overwrite_list_and_delete(store: MetadataStore) -> None:
    tags = store.tags
    arn = "arn:aws:sagemaker:us-east-1:000000000000:training-job/t"
    assert tags.list(arn) == []
    tags.add(arn, [{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": "dev"}])
    tags.add(arn, [{"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "data"}])
    assert tags.list(arn) == [
        {"Key": "team", "Value": "data"},
        {"Key": "env", "Value": "dev"},
        {"Key": "cost", "Value": "42"},
    ]
    tags.delete(arn, ["env", "missing"])
    assert tags.list(arn) == [{"Key": "team", "Value": "data"}, {"Key": "cost", "Value": "42"}]
    tags.add(arn, [{"Key": "env", "Value": "prod"}])
    assert [tag["Key"] for tag in tags.list(arn)] == ["team", "cost", "env"]
    tags.add("arn:other", [{"Key": "team", "Value": "other"}])
    tags.delete_all(arn)
    assert tags.list(arn) == []
    assert tags.list("arn:other") == [{"Key": "team", "Value": "other"}]


def test_tags_duplicate_keys_in_one_call_keep_the_last_value(store: MetadataStore) -> None:
    store.tags.add("arn:x", [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    assert store.tags.list("arn:x") == [{"Key": "k", "Value": "2"}]


def test_tags_reject_malformed_entries(store: MetadataStore) -> None:
    with pytest.raises(ValueError, match="Key"):
        store.tags.add("arn:x", [{"Value": "no key"}])
    assert store.tags.list("arn:x") == []


# restart -----------------------------------------------------------------------


def test_reopened_store_finds_everything(store_url: str) -> None:
    first = MetadataStore(store_url)
    first.resources(KIND).create(make_record("persisted", document={"x": [1.5, {"y": "z"}]}))
    first.tags.add("arn:p", [{"Key": "k", "Value": "v"}])
    first.close()
    second = MetadataStore(store_url)
    try:
        fetched = second.resources(KIND).get("persisted")
        assert fetched is not None
        assert fetched.document == {"x": [1.5, {"y": "z"}]}
        assert fetched.creation_time == T0
        assert second.tags.list("arn:p") == [{"Key": "k", "Value": "v"}]
    finally:
        second.close()


def test_dialect_is_reported(store: MetadataStore, store_url: str) -> None:
    assert store.dialect == ("sqlite" if store_url.startswith("sqlite") else "postgresql")
