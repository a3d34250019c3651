"""SageMaker XGBoost's declared hyperparameters and how they become ``xgboost.train`` arguments."""

from __future__ import annotations

import pytest

from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.xgboost.hyperparameters import XGBOOST_HYPERPARAMETERS as SPACE
from sagebox.algorithms.xgboost.params import (
    TuningMetricError,
    booster_params,
    evaluation_plan,
    tuning_metric_name,
)


def test_defaults_are_sagemakers() -> None:
    values = SPACE.validate({"num_round": "10"})
    assert values["num_round"] == 10
    assert values["objective"] == "reg:squarederror"
    assert values["booster"] == "gbtree"
    assert values["eta"] == 0.3 and values["max_depth"] == 6 and values["lambda"] == 1.0
    assert values["alpha"] == 0.0 and values["gamma"] == 0.0 and values["min_child_weight"] == 1.0
    assert values["subsample"] == 1.0 and values["tree_method"] == "auto"
    assert values["csv_weights"] == 0 and values["seed"] == 0 and values["verbosity"] == 1
    assert values["eval_metric"] is None and values["early_stopping_rounds"] is None
    assert values["num_class"] is None and values["nthread"] is None
    assert values["tweedie_variance_power"] == 1.5 and values["max_bin"] == 256


def test_num_round_is_required() -> None:
    with pytest.raises(HyperparameterError, match="'num_round' is required"):
        SPACE.validate({"objective": "binary:logistic"})


@pytest.mark.parametrize("objective", ["multi:softmax", "multi:softprob"])
def test_multiclass_requires_num_class(objective: str) -> None:
    with pytest.raises(HyperparameterError) as caught:
        SPACE.validate({"num_round": "5", "objective": objective})
    assert caught.value.name == "num_class"
    assert f"required when objective is '{objective}'" in str(caught.value)
    assert (
        SPACE.validate({"num_round": "5", "objective": objective, "num_class": "3"})["num_class"]
        == 3
    )


def test_num_class_without_objective_is_rejected() -> None:
    with pytest.raises(HyperparameterError, match="'num_class'"):
        SPACE.validate({"num_round": "5", "num_class": "3"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("num_round", "0"),
        ("num_class", "1"),
        ("eta", "1.5"),
        ("subsample", "0"),
        ("colsample_bytree", "1.1"),
        ("max_depth", "-1"),
        ("booster", "forest"),
        ("objective", "reg:nonsense"),
        ("tree_method", "fastest"),
        ("csv_weights", "2"),
        ("early_stopping_rounds", "0"),
        ("tweedie_variance_power", "2"),
        ("scale_pos_weight", "0"),
        ("seed", str(2**31)),
        ("verbosity", "4"),
        ("grow_policy", "widthwise"),
        ("eval_metric", "rmse,nonsense"),
        ("monotone_constraints", "(1,2)"),
        ("interaction_constraints", "[[1,a]]"),
        ("save_model_on_termination", "sometimes"),
    ],
)
def test_each_bad_value_names_the_hyperparameter(name: str, value: str) -> None:
    with pytest.raises(HyperparameterError) as caught:
        SPACE.validate({"num_round": "5", name: value})
    assert caught.value.name == name
    assert str(caught.value).startswith(f"Hyperparameter '{name}'")
    assert "expected" in str(caught.value)


def test_json_quoted_objective_and_aliases() -> None:
    values = SPACE.validate(
        {
            "num_round": '"5"',
            "objective": '"reg:squarederror"',
            "learning_rate": "0.1",
            "reg_alpha": "2",
        }
    )
    assert values["objective"] == "reg:squarederror"
    assert values["eta"] == 0.1 and values["alpha"] == 2.0


def test_eval_metric_lists() -> None:
    values = SPACE.validate(
        {
            "num_round": "5",
            "objective": "binary:logistic",
            "eval_metric": "auc,logloss,error@0.7,accuracy",
        }
    )
    assert values["eval_metric"] == ("auc", "logloss", "error@0.7", "accuracy")


def test_auc_needs_a_classification_or_ranking_objective() -> None:
    with pytest.raises(
        HyperparameterError, match="metric 'auc' does not apply to objective 'reg:squarederror'"
    ):
        SPACE.validate({"num_round": "5", "eval_metric": "auc"})
    SPACE.validate({"num_round": "5", "eval_metric": "auc", "objective": "rank:pairwise"})


def test_constraints_need_a_matching_tree_method() -> None:
    with pytest.raises(HyperparameterError, match="'monotone_constraints'"):
        SPACE.validate({"num_round": "5", "monotone_constraints": "(1,-1)"})
    values = SPACE.validate(
        {"num_round": "5", "monotone_constraints": "(1,-1)", "tree_method": "hist"}
    )
    assert values["monotone_constraints"] == (1, -1)
    with pytest.raises(HyperparameterError, match="'interaction_constraints'"):
        SPACE.validate({"num_round": "5", "interaction_constraints": "[[0,1],[2,3]]"})
    SPACE.validate(
        {"num_round": "5", "interaction_constraints": "[[0,1],[2,3]]", "tree_method": "approx"}
    )


def test_updater_rules() -> None:
    with pytest.raises(HyperparameterError, match="'updater'"):
        SPACE.validate({"num_round": "5", "booster": "gblinear", "updater": "grow_colmaker"})
    with pytest.raises(HyperparameterError, match="'updater'"):
        SPACE.validate({"num_round": "5", "updater": "grow_colmaker,grow_histmaker"})
    with pytest.raises(HyperparameterError, match="'updater'"):
        SPACE.validate({"num_round": "5", "process_type": "update", "updater": "grow_colmaker"})
    values = SPACE.validate({"num_round": "5", "updater": "grow_colmaker,prune"})
    assert values["updater"] == ("grow_colmaker", "prune")


def test_booster_params_pass_only_what_was_set() -> None:
    raw = {
        "num_round": "5",
        "max_depth": "4",
        "eta": "0.1",
        "csv_weights": "1",
        "sketch_eps": "0.1",
        "updater": "grow_colmaker,prune",
        "monotone_constraints": "1,0",
        "tree_method": "exact",
        "_tuning_objective_metric": "validation:rmse",
    }
    values = SPACE.validate(raw)
    built = booster_params(values, SPACE.explicit(raw), ["rmse"], nthread=3)
    assert built.params == {
        "eta": 0.1,
        "max_depth": 4,
        "monotone_constraints": "(1,0)",
        "tree_method": "exact",
        "updater": "grow_colmaker,prune",
        "eval_metric": ["rmse"],
        "nthread": 3,
    }
    assert built.ignored == ("sketch_eps",)


def test_gpu_hist_falls_back_to_hist() -> None:
    raw = {"num_round": "5", "tree_method": "gpu_hist", "nthread": "2"}
    built = booster_params(SPACE.validate(raw), SPACE.explicit(raw), [])
    assert built.params["tree_method"] == "hist"
    assert built.params["nthread"] == 2


def test_evaluation_plan_splits_native_and_container_metrics() -> None:
    plan = evaluation_plan(("auc", "accuracy", "logloss"), None)
    assert plan.native == ["auc", "logloss"] and plan.custom == ["accuracy"]
    assert plan.early_stopping_metric == "logloss"
    plan = evaluation_plan(("rmse",), "mae")
    assert plan.native == ["rmse", "mae"] and plan.early_stopping_metric == "mae"
    plan = evaluation_plan(None, None)
    assert plan.native == [] and plan.early_stopping_metric is None


def test_tuning_metric_name() -> None:
    assert tuning_metric_name("validation:auc") == "auc"
    assert tuning_metric_name(None) is None
    with pytest.raises(TuningMetricError, match="'validation:bogus'"):
        tuning_metric_name("validation:bogus")


def test_the_default_nthread_is_at_most_the_hosts_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a Ray node SM_NUM_CPUS is what the host reserved, fewer than the node's CPUs."""
    import os

    from sagebox.algorithms.xgboost.params import available_cpus

    affinity = len(os.sched_getaffinity(0))
    monkeypatch.setenv("SM_NUM_CPUS", "1")
    assert available_cpus() == 1
    monkeypatch.setenv("SM_NUM_CPUS", str(affinity + 8))
    assert available_cpus() == affinity
    monkeypatch.delenv("SM_NUM_CPUS")
    assert available_cpus() == affinity
