from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.services.processing.jobs import unique

SCRIPTS = Path(__file__).parent / "scripts"
DATA = b"label,x1,x2\n1,0.5,2.0\n0,1.5,3.0\n1,2.5,4.0\n0,3.5,5.0\n"


@pytest.fixture(scope="session")
def processing_bucket(s3: Any) -> str:
    """A bucket with a CSV data set under data/ and the test scripts under code/."""
    bucket = unique("processing")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data/raw/data.csv", Body=DATA)
    for script in SCRIPTS.glob("*.py"):
        s3.put_object(Bucket=bucket, Key=f"code/{script.name}", Body=script.read_bytes())
    return bucket
