"""The Clarify processing job: what the ``sagemaker-clarify-processing`` image does.

Reads, below the container's /opt/ml (``$SAGEMAKER_BASE_DIR`` on sagebox):

    processing/input/config/analysis_config.json    the 'analysis_config' input
    processing/input/data/...                       the 'dataset' input (or dataset_uri from S3)

and writes to processing/output (the 'analysis_result' output):

    analysis.json                    the results in Clarify's schema
    <report>.html, .ipynb, .pdf      the report
    explanations_shap/out.csv        local SHAP values (save_local_shap_values)
    explanations_shap/baseline.csv   the baseline it computed, when none was given

A job whose Environment says ``analysis_type`` MODEL_BIAS or MODEL_EXPLAINABILITY is a Model
Monitor execution (bias or feature attribution drift): `monitoring.run` does it instead.

A ClarifyError (bad configuration, a missing column, a model that answers nonsense) is
written to output/message and the process exits 1, so the job fails with that reason. The
model is reached through boto3 as the environment configures it (AWS_ENDPOINT_URL and
credentials: the sagebox server itself, see services/job_api_access.py).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sagebox.analysis.clarify import monitoring, tree_model
from sagebox.analysis.clarify.analysis import AnalysisResult, run_analysis
from sagebox.analysis.clarify.aws_clients import clients, downloader
from sagebox.analysis.clarify.baseline import resolve_baseline
from sagebox.analysis.clarify.config import AnalysisConfig
from sagebox.analysis.clarify.dataset import load_dataset
from sagebox.analysis.clarify.endpoint import ModelClient, model_endpoint
from sagebox.analysis.clarify.errors import ClarifyError
from sagebox.analysis.clarify.report import write_reports

log = logging.getLogger("sagebox.clarify")


class Paths:
    """The container paths of the job, below its /opt/ml."""

    def __init__(self, root: Path) -> None:
        self.config = root / "processing" / "input" / "config" / "analysis_config.json"
        self.data = root / "processing" / "input" / "data"
        self.output = root / "processing" / "output"
        self.message = root / "output" / "message"

    @classmethod
    def from_environment(cls) -> Paths:
        return cls(Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")))


def _write_outputs(paths: Paths, config: AnalysisConfig, result: AnalysisResult, identifiers: Any) -> None:
    paths.output.mkdir(parents=True, exist_ok=True)
    (paths.output / "analysis.json").write_text(json.dumps(result.analysis, indent=2), encoding="utf-8")
    shap_dir = paths.output / "explanations_shap"
    if result.shap is not None and config.shap is not None and config.shap.save_local_shap_values:
        shap_dir.mkdir(exist_ok=True)
        result.shap.local_frame(identifiers).to_csv(shap_dir / "out.csv", index=False)
    if result.baseline is not None and result.baseline_computed:
        shap_dir.mkdir(exist_ok=True)
        result.baseline.to_csv(shap_dir / "baseline.csv", index=False, header=False)
    write_reports(paths.output, config, result.analysis)


def analyse(paths: Paths) -> AnalysisResult:
    """The whole job; raises ClarifyError for anything it cannot use."""
    config = AnalysisConfig.load(paths.config)
    needs_model = bool(config.shap or config.pdp or (config.post_training_methods and config.predicted_label is None))
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        aws = clients() if (needs_model or config.dataset_uri or isinstance(getattr(config.shap, "baseline", None), str)) else None
        download = downloader(aws[2], Path(scratch)) if aws else None
        data_folder = paths.data
        if config.dataset_uri:
            data_folder = download(config.dataset_uri, Path(scratch) / "dataset")  # type: ignore[misc]
        dataset = load_dataset(data_folder, config)
        log.info("dataset: %d records, features %s", len(dataset.frame), list(dataset.feature_columns))
        model = booster = None
        if needs_model and config.predictor is not None and aws is not None:
            sagemaker, runtime, s3 = aws
            endpoint = stack.enter_context(model_endpoint(config.predictor, sagemaker))
            model = ModelClient(runtime, endpoint, config.predictor, list(dataset.feature_columns))
            if config.shap is not None and tree_model.enabled():
                try:
                    booster = tree_model.load_booster(sagemaker, s3, config.predictor.model_name, config.predictor.endpoint_name)
                except Exception as exc:  # noqa: BLE001 - any doubt means Kernel SHAP
                    log.info("no XGBoost booster for TreeSHAP (%s): Kernel SHAP", exc)
        baseline, computed = (None, False)
        if config.shap is not None:
            baseline, computed = resolve_baseline(config, dataset.features, download or _no_download)
        result = run_analysis(config, dataset, model, baseline=baseline, baseline_computed=computed, booster=booster)
        identifiers = dataset.frame[dataset.joinsource] if dataset.joinsource else None
        _write_outputs(paths, config, result, identifiers)
        if model is not None:
            log.info("the model was invoked %d times", model.invocations)
        return result


def _no_download(uri: str) -> Path:
    raise ClarifyError(f"Cannot download {uri}: no S3 access was set up.")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(143)  # unwinds: the shadow endpoint is deleted on the way out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    signal.signal(signal.SIGTERM, _on_sigterm)
    paths = Paths.from_environment()
    try:
        if monitoring.requested():
            message = monitoring.run()
            paths.message.parent.mkdir(parents=True, exist_ok=True)
            paths.message.write_text(message[:1024], encoding="utf-8")
            log.info("%s", message)
            return 0
        analyse(paths)
    except ClarifyError as exc:
        log.error("%s", exc)
        paths.message.parent.mkdir(parents=True, exist_ok=True)
        paths.message.write_text(str(exc), encoding="utf-8")
        return 1
    log.info("analysis complete: %s", paths.output)
    return 0
