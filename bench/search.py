"""Search latency over 1,000 / 10,000 / 100,000 trial components, on SQLite.

The search SageMaker users run most: ``Metrics.validation:auc.Max > 0.84``, sorted by
that metric descending, first page of 100, as one ``Search`` request through
`SearchService` (the operation without HTTP: expression, store query, TotalHits,
tags, records). Trial components are `bench.document_queries`' realistic documents
(about 1.8 KB: 5 metrics with statistics, parameters, artifacts, parents), written
straight into the store for speed; creating the `SearchService` then builds their
document index from the stored documents, which is timed too. The threshold keeps
about half of the records.

The reference is the same query through a store handle that has not declared the
index, i.e. reading every document (3 runs per size). Target: p50 <= 50 ms at
100,000 records, growing sub-linearly with the store.

Run ``python bench/search.py``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.document_queries import KIND, QUERIED_METRIC, THRESHOLD, fill
from sagebox.services.search import SearchService
from sagebox.store import Condition, DocumentSort, Match, MetadataStore
from sagebox.store.database import Database

SIZES = (1_000, 10_000, 100_000)
PAGE = 100
TARGET_MS = 50.0
PROPERTY = f"Metrics.{QUERIED_METRIC}.Max"
REQUEST: dict[str, Any] = {
    "Resource": "ExperimentTrialComponent",
    "SearchExpression": {
        "Filters": [{"Name": PROPERTY, "Operator": "GreaterThan", "Value": str(THRESHOLD)}]
    },
    "SortBy": PROPERTY,
    "SortOrder": "Descending",
    "MaxResults": PAGE,
}


def percentile(times: list[float], fraction: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def search_seconds(service: SearchService, repeats: int) -> tuple[list[float], dict[str, Any]]:
    times = []
    answer: dict[str, Any] = {}
    for _ in range(repeats):
        started = time.perf_counter()
        answer = service.search(dict(REQUEST))
        times.append(time.perf_counter() - started)
    if len(answer["Results"]) != PAGE:
        raise RuntimeError(f"expected a full page of {PAGE}, got {len(answer['Results'])}")
    return times, answer


def unindexed_seconds(url: str, repeats: int) -> list[float]:
    """The same filter and sort through a store that reads the documents."""
    path = ("Metrics", Match("MetricName", QUERIED_METRIC), "Max")
    where, sort = Condition(path, "GreaterThan", THRESHOLD), DocumentSort(path, "Descending")
    store = MetadataStore(url)
    try:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            store.query([KIND], where, sort, max_results=PAGE)
            times.append(time.perf_counter() - started)
        return times
    finally:
        store.close()


def measure(folder: Path, size: int, repeats: int) -> dict[str, Any]:
    url = f"sqlite:///{folder / f'search-{size}.db'}"
    database = Database(url)
    try:
        database.upgrade()
        mean_bytes = fill(database, size)
    finally:
        database.close()
    reference = unindexed_seconds(url, 3)
    store = MetadataStore(url)
    try:
        started = time.perf_counter()
        service = SearchService(store)  # declares the trial components' index: builds it
        built = time.perf_counter() - started
        service.search(dict(REQUEST))  # warm the connection pool and the page cache
        times, answer = search_seconds(service, repeats)
    finally:
        store.close()
    return {
        "size": size,
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "reference_p50_ms": statistics.median(reference) * 1000,
        "index_build_s": built,
        "total_hits": answer["TotalHits"],
        "mean_bytes": mean_bytes,
    }


def run(sizes: tuple[int, ...] = SIZES, repeats: int = 31) -> dict[str, Any]:
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            found = measure(Path(folder), size, repeats)
            at_target = size == 100_000
            met = found["p50_ms"] <= TARGET_MS
            rows.append(
                {
                    "measure": f"Search {PROPERTY} > {THRESHOLD}, sorted by it descending, first "
                    f"{PAGE}: p50 / p95 ms at {size:,} trial components",
                    "sagebox": f"{found['p50_ms']:.1f} / {found['p95_ms']:.1f}",
                    "reference": f"{found['reference_p50_ms']:.1f} (documents read, p50)",
                    "ratio": f"{found['reference_p50_ms'] / found['p50_ms']:.0f}x faster",
                    "target": f"p50 <= {TARGET_MS:.0f} ms at 100,000" if at_target else "",
                    "met": ("yes" if met else "no") if at_target else "",
                }
            )
            hits = found["total_hits"]
            notes.append(
                f"{size:,}: index built in {found['index_build_s']:.1f} s, TotalHits "
                f"{hits['Value']:,} ({hits['Relation']}), documents {found['mean_bytes']} B"
            )
    result = {
        "name": "search",
        "rows": rows,
        "notes": f"SQLite, SearchService.search, {repeats} runs per size after one warm-up; "
        + "; ".join(notes)
        + ".",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
