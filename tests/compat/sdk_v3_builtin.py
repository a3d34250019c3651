"""The SageMaker Python SDK v3 ModelTrainer on the built-in XGBoost algorithm, unchanged.

Run with the environment `sagebox env` prints; prints the job's status and model artifact.
"""

import io
import logging

import numpy as np
from sagemaker.core import image_uris
from sagemaker.core.helper.session_helper import Session
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, OutputDataConfig
from sklearn.datasets import load_diabetes

logging.basicConfig(level=logging.INFO)  # ModelTrainer streams the job's log at INFO
session = Session()
bucket = session.default_bucket()
data = load_diabetes()
for name, rows in (("train", slice(0, 300)), ("validation", slice(300, None))):
    buffer = io.StringIO()
    np.savetxt(
        buffer, np.column_stack([data.target[rows], data.data[rows]]), delimiter=",", fmt="%.8g"
    )
    with open(f"{name}.csv", "w") as handle:
        handle.write(buffer.getvalue())
train = session.upload_data("train.csv", bucket=bucket, key_prefix="sdk-v3/train")
validation = session.upload_data("validation.csv", bucket=bucket, key_prefix="sdk-v3/validation")

trainer = ModelTrainer(
    training_image=image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    compute=Compute(instance_type="ml.m5.large", instance_count=1),
    hyperparameters={"objective": "reg:squarederror", "num_round": 20, "max_depth": 3},
    output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/sdk-v3/output"),
    base_job_name="sdk-v3-xgboost",
    sagemaker_session=session,
)
trainer.train(
    input_data_config=[
        InputData(channel_name="train", data_source=train, content_type="text/csv"),
        InputData(channel_name="validation", data_source=validation, content_type="text/csv"),
    ],
    wait=True,
    logs=True,
)
job = trainer._latest_training_job
job.refresh()
print("status", job.training_job_status)
print("artifact", job.model_artifacts.s3_model_artifacts)
