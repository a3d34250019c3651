"""Column types and the preprocessing pipeline Autopilot's feature engineering fits.

Each feature column is read as numeric, categorical, text or datetime from its values
(`infer_column_types`); `build_preprocessor` makes a scikit-learn pipeline that takes
the raw rows as strings (missing values and all) and gives the dense float matrix the
algorithms train on: numbers imputed (median, with a missing-value indicator) and
scaled, categories imputed and one-hot encoded (rare ones pooled), text as TF-IDF
features, datetimes as their calendar parts.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

NUMERIC, CATEGORICAL, TEXT, DATETIME = "numeric", "categorical", "text", "datetime"
PARSED_SHARE = 0.95
"""A column is numeric (datetime) when at least this share of its present values parse as such."""
TEXT_MIN_WORDS = 3.0
"""Mean words per value from which a mostly distinct string column is text, not a category."""
TEXT_DISTINCT_SHARE = 0.3
MAX_CATEGORIES = 30
MAX_TEXT_FEATURES = 200
MISSING = "__missing__"
DATETIME_PARTS = ("year", "month", "day", "day_of_week", "hour")


def _present(values: pd.Series) -> pd.Series:
    return values[values.notna() & (values.astype(str).str.strip() != "")]


def _parses_as_datetime(values: pd.Series) -> bool:
    if values.empty or pd.to_numeric(values, errors="coerce").notna().mean() > 0.5:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return float(parsed.notna().mean()) >= PARSED_SHARE


def infer_column_type(values: pd.Series) -> str:
    present = _present(values)
    if present.empty:
        return NUMERIC
    if float(pd.to_numeric(present, errors="coerce").notna().mean()) >= PARSED_SHARE:
        return NUMERIC
    text = present.astype(str)
    if _parses_as_datetime(text):
        return DATETIME
    words = float(text.str.split().str.len().mean())
    if words >= TEXT_MIN_WORDS and text.nunique() >= TEXT_DISTINCT_SHARE * len(text):
        return TEXT
    return CATEGORICAL


def infer_column_types(frame: pd.DataFrame) -> dict[str, str]:
    """Each column's type, read from its values."""
    return {str(column): infer_column_type(frame[column]) for column in frame.columns}


# Module-level functions: the fitted pipeline is saved with joblib, which pickles them by name.


def to_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda column: pd.to_numeric(column, errors="coerce")).astype(float)


def to_categories(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.astype("string").apply(lambda column: column.str.strip())
    return text.fillna(MISSING).replace("", MISSING).astype(object)


def to_text(frame: pd.DataFrame) -> np.ndarray:
    return frame.iloc[:, 0].astype("string").fillna("").to_numpy(dtype=object)


def to_datetime_parts(frame: pd.DataFrame) -> pd.DataFrame:
    parts = {}
    for column in frame.columns:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moments = pd.to_datetime(
                frame[column].astype("string"), errors="coerce", format="mixed"
            )
        for part in DATETIME_PARTS:
            parts[f"{column}_{part}"] = getattr(moments.dt, part).astype(float)
    return pd.DataFrame(parts, index=frame.index)


def datetime_part_names(transformer: Any, columns: Any) -> list[str]:
    return [f"{column}_{part}" for column in columns for part in DATETIME_PARTS]


def build_preprocessor(column_types: dict[str, str]) -> Pipeline:
    """The unfitted pipeline for these columns (a DataFrame of raw strings in, floats out)."""
    by_type: dict[str, list[str]] = {}
    for column, kind in column_types.items():
        by_type.setdefault(kind, []).append(column)
    transformers: list[tuple[str, Any, Any]] = []
    if by_type.get(NUMERIC):
        transformers.append(
            (
                NUMERIC,
                make_pipeline(
                    FunctionTransformer(to_numbers, feature_names_out="one-to-one"),
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                by_type[NUMERIC],
            )
        )
    if by_type.get(CATEGORICAL):
        transformers.append(
            (
                CATEGORICAL,
                make_pipeline(
                    FunctionTransformer(to_categories, feature_names_out="one-to-one"),
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        max_categories=MAX_CATEGORIES,
                        sparse_output=False,
                    ),
                ),
                by_type[CATEGORICAL],
            )
        )
    for column in by_type.get(TEXT, []):
        transformers.append(
            (
                f"{TEXT}_{column}",
                make_pipeline(
                    FunctionTransformer(to_text, feature_names_out="one-to-one"),
                    TfidfVectorizer(max_features=MAX_TEXT_FEATURES),
                ),
                [column],
            )
        )
    if by_type.get(DATETIME):
        transformers.append(
            (
                DATETIME,
                make_pipeline(
                    FunctionTransformer(to_datetime_parts, feature_names_out=datetime_part_names),
                    SimpleImputer(strategy="median", keep_empty_features=True),
                    StandardScaler(),
                ),
                by_type[DATETIME],
            )
        )
    return Pipeline([("columns", ColumnTransformer(transformers, sparse_threshold=0.0))])


def source_columns(pipeline: Pipeline, columns: list[str]) -> list[str]:
    """The raw column behind each feature the fitted pipeline makes, in the features' order."""
    by_length = sorted(columns, key=len, reverse=True)
    sources = []
    for name in pipeline.named_steps["columns"].get_feature_names_out():
        transformer, _, feature = str(name).partition("__")
        if transformer.startswith(f"{TEXT}_"):
            sources.append(transformer[len(TEXT) + 1 :])
            continue
        feature = feature.removeprefix("missingindicator_")
        sources.append(
            next((c for c in by_length if feature == c or feature.startswith(f"{c}_")), feature)
        )
    return sources
