"""Script mode through the SageMaker Python SDK v2, unchanged from how one runs it against AWS.

SKLearn fits `sklearn_train.py` and deploys with `sklearn_inference.py`'s handlers;
XGBoost fits `xgboost_train.py` and deploys with the container's default handlers.
Prints one line per prediction.
"""

import io
import json
import os

import numpy as np
import sagemaker
from sagemaker.deserializers import JSONDeserializer
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer, JSONSerializer
from sagemaker.sklearn import SKLearn
from sagemaker.xgboost import XGBoost
from sklearn.datasets import load_diabetes

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

session = sagemaker.Session()
bucket = session.default_bucket()
data = load_diabetes()
buffer = io.StringIO()
np.savetxt(buffer, np.column_stack([data.target, data.data]), delimiter=",", fmt="%.8g")
with open("diabetes.csv", "w") as handle:
    handle.write(buffer.getvalue())
train = session.upload_data("diabetes.csv", bucket=bucket, key_prefix="frameworks/train")

sklearn = SKLearn(
    entry_point="sklearn_train.py",
    source_dir=os.path.join(HERE, "frameworks"),
    framework_version="1.2-1",
    role=ROLE,
    instance_count=1,
    instance_type="ml.m5.large",
    hyperparameters={"alpha": 0.01},
    sagemaker_session=session,
)
sklearn.fit({"train": TrainingInput(train, content_type="text/csv")}, logs=False)
print("sklearn model", sklearn.model_data)
predictor = sklearn.deploy(
    initial_instance_count=1,
    instance_type="ml.m5.large",
    entry_point="sklearn_inference.py",
    source_dir=os.path.join(HERE, "frameworks"),
    serializer=JSONSerializer(),
    deserializer=JSONDeserializer(),
)
try:
    answer = predictor.predict({"instances": data.data[:3].tolist()})
finally:
    predictor.delete_endpoint()
for value in answer["predictions"]:
    print("sklearn prediction", json.dumps(value))

booster = XGBoost(
    entry_point="xgboost_train.py",
    source_dir=os.path.join(HERE, "frameworks"),
    framework_version="1.7-1",
    role=ROLE,
    instance_count=1,
    instance_type="ml.m5.large",
    hyperparameters={"num_round": 30, "max_depth": 3},
    sagemaker_session=session,
)
booster.fit({"train": TrainingInput(train, content_type="text/csv")}, logs=False)
print("xgboost model", booster.model_data)
predictor = booster.deploy(
    initial_instance_count=1, instance_type="ml.m5.large", serializer=CSVSerializer()
)
try:
    rows = predictor.predict(data.data[:3])  # XGBoostPredictor reads CSV back into rows
finally:
    predictor.delete_endpoint()
for row in rows:
    for value in row:
        print("xgboost prediction", float(value))
