"""HyperparameterTuner through the SageMaker Python SDK v2, unchanged from how one runs it against AWS.

Tunes the built-in XGBoost algorithm, reads the trials with analytics(), deploys the best
model, then tunes a scikit-learn training script whose metric comes from its log.
"""

import io
import os

import numpy as np
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer
from sagemaker.sklearn import SKLearn
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter
from sklearn.datasets import load_diabetes

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

session = sagemaker.Session()
bucket = session.default_bucket()
data = load_diabetes()
channels = {}
for name, rows in (("train", slice(0, 300)), ("validation", slice(300, None))):
    buffer = io.StringIO()
    np.savetxt(
        buffer, np.column_stack([data.target[rows], data.data[rows]]), delimiter=",", fmt="%.8g"
    )
    with open(f"{name}.csv", "w") as handle:
        handle.write(buffer.getvalue())
    uri = session.upload_data(f"{name}.csv", bucket=bucket, key_prefix=f"tuner/{name}")
    channels[name] = TrainingInput(uri, content_type="text/csv")

estimator = Estimator(
    image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
    role=ROLE,
    instance_count=1,
    instance_type="ml.m5.large",
    output_path=f"s3://{bucket}/tuner/output",
    sagemaker_session=session,
)
estimator.set_hyperparameters(objective="reg:squarederror", num_round=20)
tuner = HyperparameterTuner(
    estimator,
    objective_metric_name="validation:rmse",
    objective_type="Minimize",
    hyperparameter_ranges={
        "eta": ContinuousParameter(0.05, 0.5),
        "max_depth": IntegerParameter(2, 6),
    },
    max_jobs=4,
    max_parallel_jobs=2,
    strategy="Random",
)
tuner.fit(channels, wait=True)
best = tuner.best_training_job()
print("best", best)
frame = tuner.analytics().dataframe()
for _, row in frame.iterrows():
    print(
        "trial",
        row["TrainingJobName"],
        row["TrainingJobStatus"],
        row["FinalObjectiveValue"],
        row["max_depth"],
    )
predictor = tuner.deploy(
    initial_instance_count=1, instance_type="ml.m5.large", serializer=CSVSerializer()
)
try:
    answer = predictor.predict(data.data[:3]).decode()
finally:
    predictor.delete_endpoint()
for value in answer.replace("\n", ",").strip(",").split(","):
    print("prediction", float(value))

script = SKLearn(
    entry_point="sklearn_train.py",
    source_dir=os.path.join(HERE, "frameworks"),
    framework_version="1.2-1",
    role=ROLE,
    instance_count=1,
    instance_type="ml.m5.large",
    sagemaker_session=session,
)
script_tuner = HyperparameterTuner(
    script,
    objective_metric_name="validation-rmse",
    objective_type="Minimize",
    metric_definitions=[{"Name": "validation-rmse", "Regex": "validation-rmse=([0-9.]+)"}],
    hyperparameter_ranges={"alpha": ContinuousParameter(0.001, 10.0, scaling_type="Logarithmic")},
    max_jobs=3,
    max_parallel_jobs=3,
)
script_tuner.fit(channels, wait=True)
print("script best", script_tuner.best_training_job())
attached = script_tuner.best_estimator()  # SKLearn.attach: the framework read back from the job
print("script estimator", type(attached).__name__, attached.entry_point, attached.framework_version)
for _, row in script_tuner.analytics().dataframe().iterrows():
    print("script trial", row["TrainingJobStatus"], row["FinalObjectiveValue"], row["alpha"])
