"""Runs every benchmark and writes bench/results/*.json and docs/benchmarks.md.

`python -m bench [NAME ...] [--quick]`: `--quick` runs the chosen benchmarks that have a
short form (a `quick` parameter) in it; naming one that has none is an error.
"""

from __future__ import annotations

import argparse
import inspect
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
    stacking,
    store_throughput,
    training_overhead,
    transform,
    transform_scaling,
    tuning,
    tuning_scaling,
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
    "transform_scaling": transform_scaling.run,
    "automl_serving": automl_serving.run,
    "forecasting": forecasting.run,
    "automl_quality": automl_quality.run,
    "stacking": stacking.run,
    "tuning_scaling": tuning_scaling.run,
    "store_throughput": store_throughput.run,
    "automl_open": automl_open.run,
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (all when none)")
    parser.add_argument("--quick", action="store_true", help="the short form, where one exists")
    parser.add_argument(
        "--budget", type=int, default=automl_open.BUDGET, help="automl_open: seconds per system"
    )
    parser.add_argument(
        "--datasets", default="", help="automl_open: comma-separated subset of its data sets"
    )
    options = parser.parse_args(argv)
    subset = [d for d in options.datasets.split(",") if d] or None
    BENCHMARKS["automl_open"] = lambda: automl_open.run(options.budget, subset)
    quick, names = options.quick, options.names
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    if quick:
        long_only = [
            n for n in chosen if "quick" not in inspect.signature(BENCHMARKS[n]).parameters
        ]
        if names and long_only:
            raise SystemExit(f"benchmark(s) {long_only} have no --quick form")
        chosen = [n for n in chosen if n not in long_only]
    results = []
    for name in chosen:
        print(f"running {name} ...", flush=True)
        results.append(BENCHMARKS[name](quick=True) if quick else BENCHMARKS[name]())
    harness.save(results)
    print(harness.TABLE.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
