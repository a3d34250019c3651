"""The PyTorch framework estimator through the SageMaker Python SDK v2, unchanged.

Fits `frameworks/pytorch_train.py`, then deploys with `frameworks/pytorch_inference.py`
(the SDK repacks model.tar.gz with the code under code/); prints one line per prediction.
"""

import io
import os

import numpy as np
import sagemaker
from sagemaker.inputs import TrainingInput
from sagemaker.pytorch import PyTorch
from sklearn.datasets import load_diabetes

HERE = os.path.dirname(os.path.abspath(__file__))

session = sagemaker.Session()
bucket = session.default_bucket()
data = load_diabetes()
buffer = io.StringIO()
np.savetxt(buffer, np.column_stack([data.target, data.data]), delimiter=",", fmt="%.8g")
with open("diabetes.csv", "w") as handle:
    handle.write(buffer.getvalue())
train = session.upload_data("diabetes.csv", bucket=bucket, key_prefix="pytorch/train")

estimator = PyTorch(
    entry_point="pytorch_train.py",
    source_dir=os.path.join(HERE, "frameworks"),
    framework_version="2.3",
    py_version="py311",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    instance_count=1,
    instance_type="ml.m5.large",
    hyperparameters={"epochs": 300, "lr": 0.5},
    sagemaker_session=session,
)
estimator.fit({"train": TrainingInput(train, content_type="text/csv")}, logs=False)
print("pytorch model", estimator.model_data)
predictor = estimator.deploy(
    initial_instance_count=1,
    instance_type="ml.m5.large",
    entry_point="pytorch_inference.py",
    source_dir=os.path.join(HERE, "frameworks"),
)
try:
    answer = predictor.predict(data.data[:3].astype("float32"))
finally:
    predictor.delete_endpoint()
for value in np.asarray(answer).ravel():
    print("pytorch prediction", float(value))
