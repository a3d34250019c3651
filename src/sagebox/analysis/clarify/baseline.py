"""The SHAP baseline: the rows whose values stand for an absent feature.

Given in the configuration (``methods.shap.baseline``) as rows of feature values (CSV and
Parquet data sets), as JSON Lines records the ``features`` JMESPath applies to, or as the
S3 URI of a file in the data set's format; otherwise computed from the data set by
k-means: ``num_clusters`` cluster centres (numeric columns; other columns take the most
frequent value of the cluster's rows), and without ``num_clusters`` the number between 1
and 12 with the best silhouette score on a sample of the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jmespath
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from sagebox.analysis.clarify.config import AnalysisConfig
from sagebox.analysis.clarify.errors import ClarifyError

MAX_CLUSTERS = 12
SILHOUETTE_SAMPLE = 2000


def inline_baseline(rows: list[Any], config: AnalysisConfig, features: list[str]) -> pd.DataFrame:
    """Baseline rows given in analysis_config.json."""
    if config.dataset_type in ("application/jsonlines", "application/json"):
        values = []
        for row in rows:
            found = jmespath.search(str(config.features), row) if isinstance(row, dict) else row
            values.append(found)
        rows = values
    if any(not isinstance(r, list) or len(r) != len(features) for r in rows):
        raise ClarifyError(
            f"methods.shap.baseline: every baseline row must hold the {len(features)} model features {features} "
            "(no label, no excluded columns)."
        )
    return pd.DataFrame(rows, columns=features)


def file_baseline(path: Path, config: AnalysisConfig, features: list[str]) -> pd.DataFrame:
    """A baseline file (downloaded from the S3 URI in methods.shap.baseline)."""
    if config.dataset_type == "application/x-parquet":
        frame = pd.read_parquet(path)
        return frame.set_axis(features, axis=1) if frame.shape[1] == len(features) else inline_baseline([], config, features)
    if config.dataset_type == "text/csv":
        frame = pd.read_csv(path, header=None)
        if frame.shape[1] == len(features) and not pd.api.types.is_numeric_dtype(frame.iloc[:, 0]):
            first = [str(v) for v in frame.iloc[0]]
            if first == features:
                frame = pd.read_csv(path, header=None, skiprows=1)
        return inline_baseline(frame.to_numpy().tolist(), config, features)
    import json

    text = path.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return inline_baseline(rows, config, features)


def _choose_clusters(matrix: np.ndarray, seed: int) -> int:
    rows = len(np.unique(matrix, axis=0))
    if rows < 3:
        return 1
    sample = matrix
    if len(matrix) > SILHOUETTE_SAMPLE:
        sample = matrix[np.random.default_rng(seed).choice(len(matrix), SILHOUETTE_SAMPLE, replace=False)]
    best, best_score = 1, -1.0
    for k in range(2, min(MAX_CLUSTERS, rows - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(sample)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(sample, labels)
        if score > best_score:
            best, best_score = k, score
    return best


def kmeans_baseline(frame: pd.DataFrame, num_clusters: int | None, seed: int | None = None) -> pd.DataFrame:
    """Cluster centres of the data set's features (the baseline when none is given)."""
    seed = 0 if seed is None else seed
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    matrix = frame[numeric].to_numpy(dtype=float) if numeric else np.zeros((len(frame), 1))
    k = num_clusters or _choose_clusters(matrix, seed)
    k = max(1, min(k, len(np.unique(matrix, axis=0))))
    model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(matrix)
    rows: list[dict[str, Any]] = []
    for cluster in range(k):
        members = frame[model.labels_ == cluster]
        row: dict[str, Any] = {}
        for column in frame.columns:
            if column in numeric:
                row[column] = float(model.cluster_centers_[cluster][numeric.index(column)])
            else:
                row[column] = members[column].mode().iloc[0]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(frame.columns))


def resolve_baseline(
    config: AnalysisConfig, features: pd.DataFrame, download: Callable[[str], Path]
) -> tuple[pd.DataFrame, bool]:
    """The baseline rows and whether they were computed (k-means) rather than given."""
    spec = config.shap
    names = [str(c) for c in features.columns]
    if spec is None or spec.baseline is None:
        return kmeans_baseline(features, spec.num_clusters if spec else None, spec.seed if spec else None), True
    if isinstance(spec.baseline, str):
        return file_baseline(download(spec.baseline), config, names), False
    return inline_baseline(list(spec.baseline), config, names), False
