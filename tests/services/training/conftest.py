from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import csv_bytes, unique


@pytest.fixture(scope="session")
def diabetes_bucket(s3: Any) -> str:
    """A bucket with the diabetes data as SageMaker CSV: train/ and validation/."""
    bucket = unique("training-data")
    s3.create_bucket(Bucket=bucket)
    data = load_diabetes()
    x, y = data.data.astype(np.float64), data.target.astype(np.float64)
    s3.put_object(Bucket=bucket, Key="diabetes/train/part-0.csv", Body=csv_bytes(x[:300], y[:300]))
    s3.put_object(Bucket=bucket, Key="diabetes/validation/part-0.csv", Body=csv_bytes(x[300:], y[300:]))
    return bucket
