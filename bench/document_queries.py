"""Document query latency on SQLite: filter on one metric's Max, sort by it, first page.

The query SageMaker's Search answers most (``Metrics.<name>.Max > x``, sorted by
that metric, descending, 100 results) over trial-component-like records of
about 1.8 KB (5 metrics with Min/Max/Avg/Last/Count, a Parameters map,
artifacts, Parents), at 1,000, 10,000 and 100,000 records. The threshold keeps
about half of the records, so the page is chosen from many candidates.

Run ``python bench/document_queries.py``; ``run()`` returns the result as a dict.
SageMaker's target for Search is p50 <= 50 ms at 100,000 records.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sagebox.store.database import Database
from sagebox.store.query import Condition, DocumentSort, Match
from sagebox.store.resources import ResourceRepository
from sagebox.store.tables import resources

SIZES = (1_000, 10_000, 100_000)
KIND = "TrialComponent"
METRIC_NAMES = ("train:loss", "validation:loss", "validation:accuracy", "validation:auc", "epoch")
QUERIED_METRIC = "validation:auc"
# The Max of 4 uniform values exceeds 0.5 ** (1 / 4) = 0.84 for half the records.
THRESHOLD = 0.84
PAGE = 100
TARGET_MS = 50.0
BATCH = 5_000
ARN = "arn:aws:sagemaker:us-east-1:000000000000"


def trial_component(index: int, rng: random.Random) -> dict[str, Any]:
    """A Describe document shaped like DescribeTrialComponent's, about 1.8 KB as JSON."""
    name = f"tc-{index:07d}"
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=index)
    metrics = []
    for metric in METRIC_NAMES:
        values = [round(rng.random(), 6) for _ in range(4)]
        metrics.append(
            {
                "MetricName": metric,
                "TimeStamp": start.timestamp() + 3600,
                "Max": max(values),
                "Min": min(values),
                "Last": values[-1],
                "Count": 4 + index % 50,
                "Avg": round(sum(values) / len(values), 6),
            }
        )
    return {
        "TrialComponentName": name,
        "TrialComponentArn": f"{ARN}:experiment-trial-component/{name}",
        "DisplayName": f"Training run {index}",
        "Source": {"SourceArn": f"{ARN}:training-job/job-{index:07d}", "SourceType": "TrainingJob"},
        "Status": {"PrimaryStatus": "Completed", "Message": "Status: Completed"},
        "StartTime": start.timestamp(),
        "EndTime": start.timestamp() + 3600,
        "CreationTime": start.timestamp(),
        "LastModifiedTime": start.timestamp() + 3600,
        "Parameters": {
            "SageMaker.InstanceType": {"StringValue": "ml.m5.xlarge"},
            "SageMaker.InstanceCount": {"NumberValue": 1},
            "learning_rate": {"NumberValue": round(rng.uniform(0.001, 0.3), 4)},
            "max_depth": {"NumberValue": rng.randint(2, 10)},
            "objective": {"StringValue": "binary:logistic"},
            "num_round": {"NumberValue": rng.choice([50, 100, 200])},
        },
        "InputArtifacts": {
            "SageMaker.ImageUri": {
                "Value": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgb:1.7-1"
            },
            "train": {"MediaType": "text/csv", "Value": f"s3://bench/data/{index % 10}/train"},
        },
        "OutputArtifacts": {
            "SageMaker.ModelArtifact": {"Value": f"s3://bench/output/{name}/model.tar.gz"}
        },
        "Metrics": metrics,
        "Parents": [{"TrialName": f"trial-{index % 100}", "ExperimentName": "bench"}],
    }


def fill(database: Database, count: int, seed: int = 0) -> int:
    """Write ``count`` records in large transactions; returns the mean document size."""
    rng = random.Random(seed)
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    sizes = []
    for first in range(0, count, BATCH):
        rows = []
        for index in range(first, min(first + BATCH, count)):
            document = trial_component(index, rng)
            sizes.append(len(json.dumps(document)))
            name = document["TrialComponentName"]
            rows.append(
                {
                    "kind": KIND, "name": name, "arn": document["TrialComponentArn"],
                    "status": "Completed", "creation_time": moment, "last_modified_time": moment,
                    "parent_arn": None, "document": document,
                }
            )  # fmt: skip
        with database.write() as connection:
            connection.execute(sa.insert(resources), rows)
    return int(statistics.mean(sizes))


def first_page_seconds(repository: ResourceRepository, repeats: int) -> tuple[list[float], int]:
    path = ("Metrics", Match("MetricName", QUERIED_METRIC), "Max")
    where = Condition(path, "GreaterThan", THRESHOLD)
    sort = DocumentSort(path, "Descending")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        records, _token = repository.query(where, sort, max_results=PAGE)
        times.append(time.perf_counter() - started)
    if len(records) != PAGE:
        raise RuntimeError(f"expected a full page of {PAGE}, got {len(records)}")
    return times, repository.count(where)


def run(sizes: tuple[int, ...] = SIZES, repeats: int = 7) -> dict[str, Any]:
    rows = []
    notes = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            database = Database(f"sqlite:///{Path(folder) / f'store-{size}.db'}")
            try:
                database.upgrade()
                mean_bytes = fill(database, size)
                repository = ResourceRepository(database, KIND)
                repository.query(max_results=1)  # warm the connection pool and page cache
                times, matched = first_page_seconds(repository, repeats)
            finally:
                database.close()
            p50_ms = statistics.median(times) * 1000
            rows.append(
                {
                    "measure": f"filter Metrics.{QUERIED_METRIC}.Max > {THRESHOLD}, sort by it "
                    f"descending, first {PAGE}: p50 ms at {size:,} records",
                    "sagebox": f"{p50_ms:.1f}",
                    "target": f"<= {TARGET_MS:.0f} ms at 100,000" if size == 100_000 else "",
                    "met": ("yes" if p50_ms <= TARGET_MS else "no") if size == 100_000 else "",
                }
            )
            notes.append(f"{size:,}: {matched:,} matching, documents {mean_bytes} B on average")
    result = {
        "name": "document_queries",
        "rows": rows,
        "notes": f"SQLite, median of {repeats} runs each; " + "; ".join(notes) + ".",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
