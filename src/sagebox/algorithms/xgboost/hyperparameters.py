"""SageMaker XGBoost's hyperparameters: names, defaults and allowed values.

Defaults are the ones SageMaker documents. Like SageMaker's container, training
passes to xgboost only the hyperparameters a job sets, so anything left unset
takes xgboost's own default (e.g. ``base_score`` is estimated from the data by
xgboost 2 and later).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagebox.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    CategoricalList,
    Continuous,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
    IntegerList,
    Text,
)
from sagebox.algorithms.xgboost.metrics import METRIC_NAMES, PARAMETERISED_METRICS

OBJECTIVES: tuple[str, ...] = (
    "binary:hinge",
    "binary:logistic",
    "binary:logitraw",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:map",
    "rank:ndcg",
    "rank:pairwise",
    "reg:gamma",
    "reg:linear",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:tweedie",
    "survival:aft",
    "survival:cox",
)
MULTICLASS_OBJECTIVES = ("multi:softmax", "multi:softprob")

TREE_UPDATERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_skmaker",
    "grow_quantile_histmaker",
    "sync",
    "refresh",
    "prune",
)
TREE_GROW_UPDATERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_skmaker",
    "grow_quantile_histmaker",
)
LINEAR_UPDATERS = ("shotgun", "coord_descent")
UPDATE_PROCESS_UPDATERS = ("refresh", "prune")

NESTED_INTEGER_LISTS = (
    r"\s*\[\s*(?:\[\s*\d+(?:\s*,\s*\d+)*\s*\]\s*(?:,\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\]\s*)*)?\]\s*"
)

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def _multiclass_needs_num_class(values: Mapping[str, Any], given: frozenset[str]) -> None:
    objective = values["objective"]
    if objective in MULTICLASS_OBJECTIVES and values["num_class"] is None:
        raise HyperparameterError(
            "num_class",
            None,
            "an integer >= 2",
            reason=f"is required when objective is '{objective}'",
        )
    if "num_class" in given and "objective" not in given:
        raise HyperparameterError(
            "num_class",
            str(values["num_class"]),
            "num_class only together with objective 'multi:softmax' or 'multi:softprob'",
            reason="is only used for multi-class classification and no objective is set",
        )


def _metrics_match_objective(values: Mapping[str, Any], given: frozenset[str]) -> None:
    metrics = values["eval_metric"] or ()
    objective = values["objective"]
    if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
        raise HyperparameterError(
            "eval_metric",
            ",".join(metrics),
            "'auc' only with a 'binary:*' or 'rank:*' objective",
            reason=f"metric 'auc' does not apply to objective '{objective}'",
        )
    if "aft-nloglik" in metrics and objective != "survival:aft":
        raise HyperparameterError(
            "eval_metric",
            ",".join(metrics),
            "'aft-nloglik' only with objective 'survival:aft'",
            reason=f"metric 'aft-nloglik' does not apply to objective '{objective}'",
        )


def _constraints_match_tree_method(values: Mapping[str, Any], given: frozenset[str]) -> None:
    tree_method = values["tree_method"]
    if values["monotone_constraints"] is not None and tree_method not in ("exact", "hist"):
        raise HyperparameterError(
            "monotone_constraints",
            str(values["monotone_constraints"]),
            "tree_method 'exact' or 'hist' to be set",
            reason=f"cannot be used with tree_method '{tree_method}'",
        )
    if values["interaction_constraints"] is not None and tree_method not in (
        "exact",
        "hist",
        "approx",
    ):
        raise HyperparameterError(
            "interaction_constraints",
            values["interaction_constraints"],
            "tree_method 'exact', 'hist' or 'approx' to be set",
            reason=f"cannot be used with tree_method '{tree_method}'",
        )


def _updaters_are_consistent(values: Mapping[str, Any], given: frozenset[str]) -> None:
    updaters = values["updater"]
    if updaters is None:
        return
    text = ",".join(updaters)
    if values["booster"] == "gblinear":
        if len(updaters) != 1 or updaters[0] not in LINEAR_UPDATERS:
            raise HyperparameterError(
                "updater", text, "exactly one of 'shotgun', 'coord_descent' for booster 'gblinear'"
            )
    elif values["process_type"] == "update":
        if any(updater not in UPDATE_PROCESS_UPDATERS for updater in updaters):
            raise HyperparameterError(
                "updater", text, "only 'refresh' and 'prune' when process_type is 'update'"
            )
    else:
        if any(updater not in TREE_UPDATERS for updater in updaters):
            raise HyperparameterError(
                "updater", text, "tree updaters: " + ", ".join(f"'{u}'" for u in TREE_UPDATERS)
            )
        if sum(updater in TREE_GROW_UPDATERS for updater in updaters) > 1:
            raise HyperparameterError(
                "updater", text, "at most one tree-growing updater", reason="several grow updaters"
            )


XGBOOST_HYPERPARAMETERS = HyperparameterSpace(
    Integer("num_round", min=1, required=True),
    Integer("num_class", min=2),
    Continuous("alpha", default=0.0, min=0),
    Continuous("base_score", default=0.5, min=0),
    Categorical("booster", ("gbtree", "gblinear", "dart"), default="gbtree"),
    Continuous("colsample_bylevel", default=1.0, min=0, max=1, min_open=True),
    Continuous("colsample_bynode", default=1.0, min=0, max=1, min_open=True),
    Continuous("colsample_bytree", default=1.0, min=0, max=1, min_open=True),
    Integer("csv_weights", default=0, min=0, max=1),
    Boolean("deterministic_histogram", default=True),
    Integer("early_stopping_rounds", min=1),
    Continuous("eta", default=0.3, min=0, max=1),
    CategoricalList("eval_metric", METRIC_NAMES, patterns=PARAMETERISED_METRICS),
    Continuous("gamma", default=0.0, min=0),
    Categorical("grow_policy", ("depthwise", "lossguide"), default="depthwise"),
    Text(
        "interaction_constraints",
        pattern=NESTED_INTEGER_LISTS,
        description="a nested list of feature indices, e.g. [[1,2],[3,4,5]]",
    ),
    Continuous("lambda", default=1.0, min=0),
    Continuous("lambda_bias", default=0.0, min=0, max=1),
    Integer("max_bin", default=256, min=0),
    Continuous("max_delta_step", default=0.0, min=0),
    Integer("max_depth", default=6, min=0),
    Integer("max_leaves", default=0, min=0),
    Continuous("min_child_weight", default=1.0, min=0),
    IntegerList("monotone_constraints", min=-1, max=1),
    Categorical("normalize_type", ("tree", "forest"), default="tree"),
    Integer("nthread", min=1),
    Categorical("objective", OBJECTIVES, default="reg:squarederror"),
    Integer("one_drop", default=0, min=0, max=1),
    Categorical("process_type", ("default", "update"), default="default"),
    Continuous("rate_drop", default=0.0, min=0, max=1),
    Integer("refresh_leaf", default=1, min=0, max=1),
    Categorical("sample_type", ("uniform", "weighted"), default="uniform"),
    Continuous("scale_pos_weight", default=1.0, min=0, min_open=True),
    Integer("seed", default=0, min=INT32_MIN + 1, max=INT32_MAX - 1),
    Boolean("single_precision_histogram", default=False),
    Continuous("sketch_eps", default=0.03, min=0, max=1, min_open=True, max_open=True),
    Continuous("skip_drop", default=0.0, min=0, max=1),
    Continuous("subsample", default=1.0, min=0, max=1, min_open=True),
    Categorical("tree_method", ("auto", "exact", "approx", "hist", "gpu_hist"), default="auto"),
    Continuous("tweedie_variance_power", default=1.5, min=1, max=2, min_open=True, max_open=True),
    CategoricalList("updater", TREE_UPDATERS + LINEAR_UPDATERS),
    Integer("verbosity", default=1, min=0, max=3),
    # Accepted by SageMaker's container; several are no longer used by xgboost 3.
    Integer("num_parallel_tree", default=1, min=1),
    Categorical("dsplit", ("row", "col")),
    Categorical("predictor", ("auto", "cpu_predictor", "gpu_predictor")),
    Integer("silent", min=0, max=1),
    Integer("prob_buffer_row", min=2),
    Categorical("sampling_method", ("uniform", "gradient_based"), default="uniform"),
    Categorical("aft_loss_distribution", ("normal", "logistic", "extreme"), default="normal"),
    Continuous("aft_loss_distribution_scale", default=1.0, min=0),
    Boolean("save_model_on_termination", default=False),
    Boolean("use_dask_gpu_training", default=False),
    rules=(
        _multiclass_needs_num_class,
        _metrics_match_objective,
        _constraints_match_tree_method,
        _updaters_are_consistent,
    ),
    aliases={
        "learning_rate": "eta",
        "min_split_loss": "gamma",
        "reg_lambda": "lambda",
        "reg_alpha": "alpha",
    },
)
"""Every hyperparameter SageMaker's XGBoost algorithm accepts."""

CONTAINER_ONLY = frozenset(
    {
        "num_round",
        "csv_weights",
        "early_stopping_rounds",
        "eval_metric",
        "save_model_on_termination",
        "use_dask_gpu_training",
    }
)
"""Hyperparameters the algorithm itself consumes rather than passing to xgboost."""

UNUSED_BY_XGBOOST = frozenset(
    {
        "deterministic_histogram",
        "dsplit",
        "lambda_bias",
        "predictor",
        "prob_buffer_row",
        "silent",
        "single_precision_histogram",
        "sketch_eps",
    }
)
"""Accepted for compatibility but removed from xgboost itself (since 2.0)."""
