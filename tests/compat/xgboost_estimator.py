"""A SageMaker Python SDK v2 workflow, unchanged from how one runs it against AWS.

Run with the environment `sagebox env` prints; prints one line per prediction.
"""

import io

import numpy as np
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer
from sklearn.datasets import load_diabetes

session = sagemaker.Session()
bucket = session.default_bucket()
data = load_diabetes()
for name, rows in (("train", slice(0, 300)), ("validation", slice(300, None))):
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([data.target[rows], data.data[rows]]), delimiter=",", fmt="%.8g")
    with open(f"{name}.csv", "w") as handle:
        handle.write(buffer.getvalue())
train = session.upload_data("train.csv", bucket=bucket, key_prefix="sdk-v2/train")
validation = session.upload_data("validation.csv", bucket=bucket, key_prefix="sdk-v2/validation")

estimator = Estimator(
    image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    instance_count=1,
    instance_type="ml.m5.large",
    output_path=f"s3://{bucket}/sdk-v2/output",
    sagemaker_session=session,
)
estimator.set_hyperparameters(objective="reg:squarederror", num_round=20, max_depth=3)
estimator.fit(
    {
        "train": TrainingInput(train, content_type="text/csv"),
        "validation": TrainingInput(validation, content_type="text/csv"),
    },
    logs=True,
)
predictor = estimator.deploy(
    initial_instance_count=1, instance_type="ml.m5.large", serializer=CSVSerializer()
)
try:
    answer = predictor.predict(data.data[:3]).decode()
finally:
    predictor.delete_endpoint()
for value in answer.split(","):
    print("prediction", float(value))
