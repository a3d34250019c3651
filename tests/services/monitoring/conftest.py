"""A trained regression model (scikit-learn's diabetes data) and a bucket for monitoring tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.services.hosting.conftest import TrainedModel, train_model
from tests.services.training.jobs import unique


@pytest.fixture(scope="session")
def monitoring_bucket(s3: Any) -> str:
    bucket = unique("monitoring")
    s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def diabetes_data() -> tuple[np.ndarray, np.ndarray]:
    data = load_diabetes()
    return data.data.astype(np.float64), data.target.astype(np.float64)


@pytest.fixture(scope="session")
def regressor(sagemaker: Any, s3: Any, monitoring_bucket: str, diabetes_data: tuple[np.ndarray, np.ndarray]) -> TrainedModel:
    return train_model(sagemaker, s3, monitoring_bucket, *diabetes_data, num_round=10)
