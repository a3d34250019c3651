"""Runs every benchmark and writes bench/results/*.json and docs/benchmarks.md."""

from __future__ import annotations

import argparse
import sys

from bench import (
    automl_open,
    automl_quality,
    automl_serving,
    clarify,
    console,
    console_live,
    document_queries,
    experiments,
    factorization_machines,
    forecasting,
    harness,
    hosting,
    ingest,
    kmeans,
    knn,
    latency_under_attack,
    linear_learner,
    model_monitor,
    notebooks,
    pca,
    pipelines,
    random_cut_forest,
    scale_out,
    sdk_flow,
    search,
    training_overhead,
    transform,
    tuning,
)

BENCHMARKS = {
    "training_job_overhead": training_overhead.run,
    "csv_ingest": ingest.run,
    "endpoint_invocations": hosting.run,
    "latency_under_attack": latency_under_attack.run,
    "batch_transform": transform.run,
    "tuning_efficiency": tuning.run,
    "sdk_flow": sdk_flow.run,
    "linear_learner": linear_learner.run,
    "kmeans": kmeans.run,
    "pca": pca.run,
    "knn": knn.run,
    "factorization_machines": factorization_machines.run,
    "random_cut_forest": random_cut_forest.run,
    "document_queries": document_queries.run,
    "experiments": experiments.run,
    "search": search.run,
    "clarify": clarify.run,
    "pipeline_scheduling": pipelines.run,
    "model_monitor": model_monitor.run,
    "console": console.run,
    "console_live": console_live.run,
    "notebooks": notebooks.run,
    "scale_out": scale_out.run,
    "scale_out_endpoints": scale_out.run_endpoints,
    "automl_serving": automl_serving.run,
    "forecasting": forecasting.run,
    "automl_quality": automl_quality.run,
    "automl_open": automl_open.run,
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (all when none)")
    parser.add_argument(
        "--budget", type=int, default=automl_open.BUDGET, help="automl_open: seconds per system"
    )
    parser.add_argument(
        "--datasets", default="", help="automl_open: comma-separated subset of its data sets"
    )
    options = parser.parse_args(argv)
    subset = [d for d in options.datasets.split(",") if d] or None
    BENCHMARKS["automl_open"] = lambda: automl_open.run(options.budget, subset)
    chosen = options.names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    results = []
    for name in chosen:
        print(f"running {name} ...", flush=True)
        results.append(BENCHMARKS[name]())
    harness.save(results)
    print(harness.TABLE.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
