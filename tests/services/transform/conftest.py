from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import unique
from tests.services.transform.jobs import TrainedModel, train_model


@pytest.fixture(scope="session")
def transform_bucket(s3: Any) -> str:
    bucket = unique("transform")
    s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def trained(sagemaker: Any, s3: Any, transform_bucket: str) -> TrainedModel:
    """An XGBoost model trained through CreateTrainingJob on the diabetes data."""
    data = load_diabetes()
    return train_model(sagemaker, s3, transform_bucket, data.data.astype(np.float64), data.target.astype(np.float64))
