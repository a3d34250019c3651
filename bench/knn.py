"""k-NN agreement, quality and query throughput: sagebox's faiss k-NN against scikit-learn.

Both sides get the same float32 training rows in the same process. sagebox runs its
pure code (``KnnModel.fit`` / ``predict``) as a training job configures it, with
``sample_size`` covering every row; scikit-learn runs ``KNeighborsClassifier`` /
``KNeighborsRegressor`` with the same ``k`` and its defaults.

- Agreement: the share of test rows where both predict the same label (value). Where
  the k-th nearest distance is shared by training points of different labels, the
  answer depends on which of them is taken: sagebox takes the earlier training row,
  scikit-learn whatever its heap keeps (which varies with its threading), so the
  target of 100% applies to the other rows.
- Quality: test accuracy (classifier) or mse (regressor), also for the approximate
  IVF indexes.
- Throughput: predicted rows per second (best of REPEATS, runs interleaved) on
  synthetic data.

Run ``python bench/knn.py``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, load_iris, load_wine, make_classification
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from sagebox.algorithms.knn.model import KnnConfig, KnnModel

K = 5
REPEATS = 3
THROUGHPUT_TARGET = 1.0


def split(
    features: np.ndarray, labels: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled 70% / 30% train and test rows, float32 as a training job reads them."""
    order = np.random.default_rng(seed).permutation(len(features))
    features, labels = features[order].astype(np.float32), labels[order].astype(np.float32)
    cut = int(len(features) * 0.7)
    return features[:cut], labels[:cut], features[cut:], labels[cut:]


def fit_sagebox(
    features: np.ndarray, labels: np.ndarray, predictor_type: str, k: int = K, **settings: Any
) -> KnnModel:
    config = KnnConfig(
        feature_dim=features.shape[1],
        k=k,
        predictor_type=predictor_type,
        sample_size=len(features),
        **settings,
    ).with_pq_dimensions()
    return KnnModel.fit([(features, labels)], config)


def fit_sklearn(features: np.ndarray, labels: np.ndarray, predictor_type: str, k: int = K) -> Any:
    estimator = KNeighborsClassifier if predictor_type == "classifier" else KNeighborsRegressor
    return estimator(n_neighbors=k).fit(features, labels.astype(np.float64))


def untied_rows(train: np.ndarray, labels: np.ndarray, test: np.ndarray, k: int) -> np.ndarray:
    """Rows whose k-th nearest distance is not shared by points of different labels."""
    costs = ((test[:, None, :].astype(np.float64) - train[None, :, :]) ** 2).sum(axis=2)
    boundary = costs == np.sort(costs, axis=1)[:, k - 1 : k]
    at_boundary = np.where(boundary, labels[None, :], np.nan)
    return np.nanmin(at_boundary, axis=1) == np.nanmax(at_boundary, axis=1)


def score(predictor_type: str, predicted: np.ndarray, truth: np.ndarray) -> float:
    if predictor_type == "classifier":
        return float(np.mean(predicted == truth))
    return float(np.mean((predicted - truth.astype(np.float64)) ** 2))


def agreement_rows(name: str, loader: Callable[..., Any], predictor_type: str) -> list[dict]:
    x_train, y_train, x_test, y_test = split(*loader(return_X_y=True))
    ours = fit_sagebox(x_train, y_train, predictor_type).predict(x_test).predicted_label
    theirs = fit_sklearn(x_train, y_train, predictor_type).predict(x_test)
    same = ours == theirs
    untied = untied_rows(x_train, y_train, x_test, K)
    metric = "accuracy" if predictor_type == "classifier" else "mse"
    ours_score, their_score = (
        score(predictor_type, ours, y_test),
        score(predictor_type, theirs, y_test),
    )
    shape = f"{name} ({len(x_train)} train / {len(x_test)} test, k={K})"
    return [
        {
            "measure": f"{shape}: same prediction as sklearn, all rows",
            "sagebox": f"{same.mean():.2%}",
            "reference": f"{int(same.sum())}/{len(same)} rows",
            "ratio": "",
            "target": ">= 99%",
            "met": "yes" if same.mean() >= 0.99 else "no",
        },
        {
            "measure": f"{shape}: same prediction, rows without cross-label distance ties",
            "sagebox": f"{same[untied].mean():.2%}",
            "reference": f"{int(untied.sum())} such rows",
            "ratio": "",
            "target": "100%",
            "met": "yes" if same[untied].all() else "no",
        },
        {
            "measure": f"{shape}: test {metric} (faiss.Flat)",
            "sagebox": f"{ours_score:.4g}",
            "reference": f"{their_score:.4g}",
            "ratio": f"{ours_score / their_score:.4f}x",
            "target": "1.0x",
            "met": "yes" if np.isclose(ours_score, their_score, rtol=1e-12) else "no",
        },
    ]


def ivf_rows() -> list[dict]:
    """Accuracy of the approximate indexes on digits, against scikit-learn's exact answer."""
    x_train, y_train, x_test, y_test = split(*load_digits(return_X_y=True))
    reference = score(
        "classifier", fit_sklearn(x_train, y_train, "classifier").predict(x_test), y_test
    )
    rows = []
    for index_type, settings, target in [
        ("faiss.IVFFlat", {}, 0.98),
        ("faiss.IVFPQ", {"pq_m": 16}, 0.95),
    ]:
        model = fit_sagebox(x_train, y_train, "classifier", index_type=index_type, **settings)
        accuracy = score("classifier", model.predict(x_test).predicted_label, y_test)
        ratio = accuracy / reference
        rows.append(
            {
                "measure": f"digits (k={K}): test accuracy with {index_type} "
                f"(nlist auto = {model.index.nlist}, nprobe {model.index.nprobe})",
                "sagebox": f"{accuracy:.4g}",
                "reference": f"{reference:.4g} (sklearn, exact)",
                "ratio": f"{ratio:.4f}x",
                "target": f">= {target}x",
                "met": "yes" if ratio >= target else "no",
            }
        )
    return rows


def best_seconds(actions: list[Callable[[], Any]]) -> list[float]:
    best = [float("inf")] * len(actions)
    for _ in range(REPEATS):
        for index, action in enumerate(actions):
            start = time.perf_counter()
            action()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def throughput_rows(points: int, dim: int, queries: int, k: int = 10) -> list[dict]:
    features, labels = make_classification(
        points + queries,
        dim,
        n_informative=min(dim, 10),
        n_redundant=0,
        n_classes=5,
        random_state=0,
    )
    features, labels = features.astype(np.float32), labels.astype(np.float32)
    x_train, y_train, x_test = features[:points], labels[:points], features[points:]
    flat = fit_sagebox(x_train, y_train, "classifier", k=k)
    ivf = fit_sagebox(x_train, y_train, "classifier", k=k, index_type="faiss.IVFFlat")
    default = fit_sklearn(x_train, y_train, "classifier", k=k)
    references = {default._fit_method: default}
    if "brute" not in references:
        brute = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
        references["brute"] = brute.fit(x_train, y_train.astype(np.float64))
    query64 = x_test.astype(np.float64)
    actions = [lambda: flat.predict(x_test), lambda: ivf.predict(x_test)]
    actions += [lambda model=model: model.predict(query64) for model in references.values()]
    ours_s, ivf_s, *their_s = best_seconds(actions)
    same = np.mean(flat.predict(x_test).predicted_label == default.predict(query64))
    shape = f"synthetic {points} x {dim}, {queries} queries, k={k}"
    rows = []
    for (method, _), seconds in zip(references.items(), their_s, strict=True):
        rows.append(
            {
                "measure": f"{shape}: rows/s, faiss.Flat (exact) vs sklearn {method}",
                "sagebox": f"{queries / ours_s:,.0f}",
                "reference": f"{queries / seconds:,.0f}"
                + (" (its default)" if method == default._fit_method else ""),
                "ratio": f"{seconds / ours_s:.2f}x",
                "target": f">= {THROUGHPUT_TARGET}x",
                "met": "yes" if seconds / ours_s >= THROUGHPUT_TARGET else "no",
            }
        )
    rows += [
        {
            "measure": f"{shape}: rows/s, faiss.IVFFlat (approximate) vs sklearn "
            f"{default._fit_method}",
            "sagebox": f"{queries / ivf_s:,.0f}",
            "reference": f"{queries / their_s[0]:,.0f}",
            "ratio": f"{their_s[0] / ivf_s:.2f}x",
            "target": "",
            "met": "",
        },
        {
            "measure": f"{shape}: same prediction as sklearn (faiss.Flat)",
            "sagebox": f"{same:.2%}",
            "reference": "",
            "ratio": "",
            "target": "100%",
            "met": "yes" if same == 1.0 else "no",
        },
    ]
    return rows


def run() -> dict[str, Any]:
    rows = agreement_rows("iris", load_iris, "classifier")
    rows += agreement_rows("wine", load_wine, "classifier")
    rows += agreement_rows("digits", load_digits, "classifier")
    rows += agreement_rows("diabetes", load_diabetes, "regressor")
    rows += ivf_rows()
    rows += throughput_rows(100_000, 32, 10_000)
    rows += throughput_rows(100_000, 8, 10_000)
    result = {
        "name": "knn",
        "rows": rows,
        "notes": "70/30 shuffled split (seed 0); both sides fitted on the same float32 rows in one "
        "process; sagebox: sample_size = all rows, index_metric L2, faiss.Flat unless stated; "
        "scikit-learn with its defaults (algorithm='auto'). Throughput: best of "
        f"{REPEATS} interleaved runs of predict() over all queries.",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
