"""``python3 -m sagebox.analysis.automl <step> [--target T ...]``: the processing steps of an AutoML job.

Steps: ``analyze`` (AnalyzingData: check, settle the problem type, split),
``features`` (FeatureEngineering: fit the preprocessing, transform the splits) and
``reports`` (the best candidate's model insights and explainability reports),
``ensemble-reports`` (ENSEMBLING: both reports for every candidate, and the candidate
definition notebook), ``forecast-reports`` (time series: both reports per candidate) and
``forecast-analyze`` (AnalyzingData of a time-series job: check, make regular series). The
three report steps make one report each, ``--part explainability`` or ``--part insights``
(both when not given): an AutoML job makes them in its GeneratingExplainabilityReport and
GeneratingModelInsightsReport statuses, one processing job each. Paths
are below the container's /opt/ml (``$SAGEMAKER_BASE_DIR`` on sagebox). A data problem is
written to output/message and the process exits 1, so the job fails with that reason.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sagebox.analysis.automl.features import fit
from sagebox.analysis.automl.problems import DataError
from sagebox.analysis.automl.splitting import analyze

REPORT_PARTS = ("explainability", "insights")


def main(argv: list[str]) -> int:
    root = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))
    parser = argparse.ArgumentParser(prog="sagebox.analysis.automl")
    parser.add_argument(
        "step",
        choices=(
            "analyze",
            "features",
            "reports",
            "ensemble-reports",
            "forecast-analyze",
            "forecast-reports",
        ),
    )
    parser.add_argument("--target")
    parser.add_argument("--problem-type", dest="problem_type")
    parser.add_argument("--objective")
    parser.add_argument("--validation-fraction", dest="validation_fraction", type=float)
    parser.add_argument("--compression")
    parser.add_argument("--sample-weight", dest="sample_weight")
    # forecast-analyze: TimeSeriesForecastingJobConfig's settings (one argument each: SageMaker
    # limits a container argument to 256 characters)
    for flag in (
        "--item",
        "--timestamp",
        "--grouping",
        "--frequency",
        "--filling",
        "--aggregation",
    ):
        parser.add_argument(flag)
    parser.add_argument("--horizon", type=int)
    parser.add_argument("--seconds", type=float, default=60.0)  # ensemble-reports: SHAP's time
    parser.add_argument("--part", choices=REPORT_PARTS)  # the report steps: one report, or both
    arguments = parser.parse_args(argv)
    step, config = (
        arguments.step,
        {k: v for k, v in vars(arguments).items() if v is not None and k != "step"},
    )
    parts = (config["part"],) if "part" in config else REPORT_PARTS
    inputs, outputs = root / "processing" / "input", root / "processing" / "output"
    try:
        if step == "forecast-analyze":
            from sagebox.analysis.automl.forecast_analysis import analyze_series

            result = analyze_series(config, inputs, outputs)
            print(
                f"Time series: {result['items']} items, {result['time_steps']} time steps; "
                f"objective: {result['objective']}"
            )
        elif step == "analyze":
            result = analyze(config, inputs, outputs)
            print(
                f"Problem type: {result['problem_type']}; objective: {result['objective']}; rows: {result['rows']}"
            )
        elif step == "reports":
            from sagebox.analysis.automl.reports import (
                write_reports,  # xgboost, shap: this step only
            )

            written = write_reports(inputs, outputs, parts)
            print(f"Reports written: {', '.join(parts)}; validation metrics: {written['metrics']}")
        elif step == "ensemble-reports":
            from sagebox.analysis.automl.ensemble_reports import write_ensemble_reports

            written = write_ensemble_reports(inputs, outputs, float(config["seconds"]), parts)
            print(
                f"Reports ({', '.join(parts)}) written for {len(written)} candidates: {sorted(written)}"
            )
        elif step == "forecast-reports":
            from sagebox.analysis.automl.forecast_reports import write_forecast_reports

            written = write_forecast_reports(inputs, outputs, parts)
            print(
                f"Reports ({', '.join(parts)}) written for {len(written)} candidates: {sorted(written)}"
            )
        elif step == "features":
            print(f"Preprocessing fitted: {fit(inputs, outputs)['features']} features")
        else:
            raise DataError(f"unknown AutoML step '{step}'")
    except DataError as exc:
        message = root / "output" / "message"
        message.parent.mkdir(parents=True, exist_ok=True)
        message.write_text(f"ClientError: {exc}", encoding="utf-8")
        print(f"ClientError: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
