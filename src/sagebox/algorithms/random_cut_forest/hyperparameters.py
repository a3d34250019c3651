"""SageMaker Random Cut Forest's hyperparameters: names, defaults and limits.

``feature_dim`` is required (the SageMaker Python SDK fills it in from the data);
``eval_metrics`` lists what the labelled ``test`` channel reports: ``accuracy``
and/or ``precision_recall_fscore`` (both by default). ``mini_batch_size``, which the
SageMaker Python SDK sends for every Amazon algorithm, is how many rows are read at a
time; the trees' reservoir samples do not depend on it.
"""

from __future__ import annotations

from sagebox.algorithms.hyperparameters import CategoricalList, HyperparameterSpace, Integer

EVAL_METRICS = ("accuracy", "precision_recall_fscore")

RCF_HYPERPARAMETERS = HyperparameterSpace(
    Integer("feature_dim", min=1, max=10000, required=True),
    Integer("num_trees", default=100, min=50, max=1000),
    Integer("num_samples_per_tree", default=256, min=1, max=2048),
    CategoricalList("eval_metrics", values=EVAL_METRICS, default=EVAL_METRICS),
    Integer("mini_batch_size", default=1000, min=1),
)
