"""The SageMaker Python SDK v3 ModelTrainer running a scikit-learn script, unchanged.

Run with the environment `sagebox env` prints; prints the job's status and model artifact.
"""

import io
import logging
import pathlib
import textwrap

import numpy as np
from sagemaker.core import image_uris
from sagemaker.core.helper.session_helper import Session
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, OutputDataConfig, SourceCode
from sklearn.datasets import load_diabetes

TRAIN = """
import argparse
import os

import joblib
import numpy as np
from sklearn.linear_model import Ridge

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1.0)
args = parser.parse_args()

folder = os.environ["SM_CHANNEL_TRAIN"]
data = np.vstack([np.loadtxt(os.path.join(folder, f), delimiter=",", ndmin=2) for f in sorted(os.listdir(folder))])
model = Ridge(alpha=args.alpha).fit(data[:, 1:], data[:, 0])
print(f"alpha {args.alpha} train-r2: {model.score(data[:, 1:], data[:, 0]):.4f}")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""

logging.basicConfig(level=logging.INFO)  # ModelTrainer streams the job's log at INFO
session = Session()
bucket = session.default_bucket()
data = load_diabetes()
buffer = io.StringIO()
np.savetxt(buffer, np.column_stack([data.target, data.data]), delimiter=",", fmt="%.8g")
pathlib.Path("train.csv").write_text(buffer.getvalue())
train = session.upload_data("train.csv", bucket=bucket, key_prefix="sdk-v3-script/train")
source = pathlib.Path("source")
source.mkdir(exist_ok=True)
(source / "train.py").write_text(textwrap.dedent(TRAIN))

trainer = ModelTrainer(
    training_image=image_uris.retrieve(
        "sklearn", session.boto_region_name, "1.2-1", py_version="py3", instance_type="ml.m5.large"
    ),
    source_code=SourceCode(source_dir=str(source), entry_script="train.py"),
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    compute=Compute(instance_type="ml.m5.large", instance_count=1),
    hyperparameters={"alpha": 0.5},
    output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/sdk-v3-script/output"),
    base_job_name="sdk-v3-sklearn",
    sagemaker_session=session,
)
trainer.train(
    input_data_config=[InputData(channel_name="train", data_source=train, content_type="text/csv")],
    wait=True,
    logs=True,
)
job = trainer._latest_training_job
job.refresh()
print("status", job.training_job_status)
print("artifact", job.model_artifacts.s3_model_artifacts)
