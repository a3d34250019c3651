"""The ensemble explainability against shap's own tree explainer (parity), on tiny models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from sagebox.analysis.automl.ensemble_reports import explain


def _data(rows: int = 160) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "c": rng.uniform(size=rows),
            "noise": rng.normal(size=rows),
        }
    )
    target = 2 * frame["a"] + frame["a"] * frame["b"] - 3 * (frame["c"] > 0.5)
    return frame, target.to_numpy()


def test_permutation_shap_over_raw_columns_matches_tree_shap_on_a_tiny_model() -> None:
    frame, target = _data()
    # Depth-2 trees hold at most pairwise interactions: one antithetic permutation per row
    # then gives exact Shapley values, which TreeExplainer computes from the trees.
    model = xgb.XGBRegressor(
        n_estimators=30, max_depth=2, learning_rate=0.3, random_state=0, n_jobs=1
    )
    model.fit(frame.to_numpy(), target)
    background = frame.iloc[:20]
    # The explained function takes raw rows as strings, as the candidates' preprocessing does.
    raw = frame.astype(str)

    def predict(rows: pd.DataFrame) -> np.ndarray:
        return model.predict(rows.astype(float).to_numpy())

    ours = explain(predict, raw.iloc[20:], raw.iloc[:20], max_rows=50)
    import shap  # after explain(), which imports it without numba's compilation

    tree = shap.TreeExplainer(
        model, data=background.to_numpy(), feature_perturbation="interventional"
    )
    theirs = tree.shap_values(ours.rows.astype(float).to_numpy())
    assert ours.values.shape == (50, 4)
    np.testing.assert_allclose(ours.values, theirs, atol=2e-4)
    importance = ours.importance(list(frame.columns))
    assert list(importance)[:2] == ["a", "c"] and importance["noise"] < 0.05
    # Local accuracy: the base value plus the SHAP values is the prediction.
    np.testing.assert_allclose(
        ours.base_values + ours.values.sum(axis=1), predict(ours.rows), atol=1e-4
    )


def test_strings_gaps_and_several_outputs_are_explained_within_the_time_given() -> None:
    frame, target = _data(120)
    raw = frame.astype(object)
    raw["colour"] = np.where(frame["c"] > 0.5, "red", "blue")
    raw.loc[::7, "colour"] = np.nan
    raw = raw.drop(columns="c")

    def predict(rows: pd.DataFrame) -> np.ndarray:
        red = (rows["colour"] == "red").to_numpy(float)
        a = rows["a"].astype(float).to_numpy()
        return np.column_stack([1 / (1 + np.exp(-(a + red))), 1 / (1 + np.exp(a + red))])

    explained = explain(predict, raw, raw.iloc[:10], seconds=0.05, max_rows=200)
    assert 10 <= len(explained.rows) < 120  # the time bound cut the rows explained
    assert explained.values.shape == (len(explained.rows), 4, 2)
    importance = explained.importance(list(raw.columns))
    assert importance["b"] == pytest.approx(0.0) and importance["noise"] == pytest.approx(0.0)
    assert min(importance["a"], importance["colour"]) > 0.01


@pytest.mark.parametrize("problem_type", ["MulticlassClassification", "Regression"])
def test_every_candidate_in_one_pass_and_the_ensemble_from_its_members(problem_type: str) -> None:
    from sagebox.analysis.automl import ensembles
    from sagebox.analysis.automl.columns import build_preprocessor, infer_column_types
    from sagebox.analysis.automl.ensemble_reports import explainability
    from sagebox.analysis.automl.model_files import FittedPreprocessing

    frame, target = _data(90)
    raw = frame.round(4).astype(str)
    raw["colour"] = np.where(frame["c"] > 0.5, "red", "blue")
    raw.loc[::9, "colour"] = np.nan
    classify = problem_type != "Regression"
    labels = np.digitize(target, np.quantile(target, [1 / 3, 2 / 3])) if classify else target
    classes = 3 if classify else 0
    types = infer_column_types(raw)
    pipeline = build_preprocessor(types).fit(raw)
    prep = FittedPreprocessing(
        pipeline, list(raw.columns), types, "y", problem_type, ["0", "1", "2"] if classify else []
    )
    features = prep.transform(raw)
    splits = ensembles.folds(labels, problem_type, 2, 0)
    models = {}
    for algorithm in ("linear-learner", "extra-trees"):
        bag, _ = ensembles.fit_bagged(algorithm, problem_type, classes, features, labels, splits)
        models[algorithm] = ensembles.WeightedEnsemble(problem_type, classes, [bag], [1.0])
    members = [models["linear-learner"].members[0], models["extra-trees"].members[0]]
    models["ensemble"] = ensembles.WeightedEnsemble(
        problem_type, classes, members, [0.25, 0.75], ["linear-learner", "extra-trees"]
    )
    found = explainability(models, prep, raw, max_rows=10, background_rows=8)
    assert set(found) == set(models)
    # A candidate explained alone (its own predict) gets the values it got in the shared pass.
    alone = explainability(
        {"ensemble": models["ensemble"]}, prep, raw, max_rows=10, background_rows=8
    )

    def ranked(report: dict) -> dict:
        return report["explanations"]["kernel_shap"]["label0"]["global_shap_values"]

    assert ranked(alone["ensemble"]) == pytest.approx(ranked(found["ensemble"]))
    assert set(ranked(found["extra-trees"])) == set(raw.columns)
    assert found["ensemble"]["rows_explained"] == 10
    assert len(found["ensemble"]["expected_value"]) == (3 if classify else 1)
