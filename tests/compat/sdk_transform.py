"""Batch transform through the SageMaker Python SDK v2, unchanged from how one runs it against AWS.

Trains the built-in XGBoost, then transforms a CSV whose first column is a record ID:
once with input/output filters joining each prediction to its ID, once without filters.
Prints each output's lines.
"""

import io

import numpy as np
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.s3 import S3Downloader
from sklearn.datasets import load_diabetes

session = sagemaker.Session()
bucket = session.default_bucket()
data = load_diabetes()


def upload_csv(rows, key_prefix, name):
    """Writes `rows` as a header-less CSV and uploads it under `key_prefix`."""
    buffer = io.StringIO()
    np.savetxt(buffer, rows, delimiter=",", fmt="%.8g")
    with open(name, "w") as handle:
        handle.write(buffer.getvalue())
    return session.upload_data(name, bucket=bucket, key_prefix=key_prefix)


train = upload_csv(
    np.column_stack([data.target[:300], data.data[:300]]), "sdk-transform/train", "train.csv"
)
ids = np.arange(1000, 1000 + len(data.data) - 300)
batch = upload_csv(np.column_stack([ids, data.data[300:]]), "sdk-transform/batch", "batch.csv")
features = upload_csv(data.data[300:310], "sdk-transform/features", "features.csv")

estimator = Estimator(
    image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    instance_count=1,
    instance_type="ml.m5.large",
    output_path=f"s3://{bucket}/sdk-transform/output",
    sagemaker_session=session,
)
estimator.set_hyperparameters(objective="reg:squarederror", num_round=10, max_depth=3)
estimator.fit({"train": TrainingInput(train, content_type="text/csv")}, logs=False)

joined = estimator.transformer(
    instance_count=1,
    instance_type="ml.m5.large",
    output_path=f"s3://{bucket}/sdk-transform/joined",
    accept="text/csv",
    assemble_with="Line",
)
joined.transform(
    data=batch,
    content_type="text/csv",
    split_type="Line",
    input_filter="$[1:]",
    join_source="Input",
    output_filter="$[0,-1]",
    wait=False,
)
joined.wait()
for line in S3Downloader.read_file(
    f"{joined.output_path}/batch.csv.out", sagemaker_session=session
).splitlines():
    print("joined", line)

plain = estimator.transformer(
    instance_count=1,
    instance_type="ml.m5.large",
    output_path=f"s3://{bucket}/sdk-transform/plain",
)
plain.transform(data=features, content_type="text/csv", split_type="Line", logs=False)
for line in S3Downloader.read_file(
    f"{plain.output_path}/features.csv.out", sagemaker_session=session
).splitlines():
    print("plain", line)
