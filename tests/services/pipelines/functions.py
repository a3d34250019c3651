"""The abalone pipeline written with the SDK's ``@step`` decorator: plain functions run as jobs.

A training function (reading the data from S3 itself) returns the model and the held-out
rows; an evaluation function scores them; a ConditionStep fails the execution when the
error is above the threshold parameter.

Each function's return value is pickled to S3 by the job and handed to the functions that
take it; the evaluation's dict is read by the ConditionStep through ``JsonGet`` of the
function's JSON result, as SageMaker does. The functions import what they use inside
their bodies, as remote functions must.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

import cloudpickle  # noqa: E402
from sagemaker.workflow.condition_step import ConditionStep  # noqa: E402
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo  # noqa: E402
from sagemaker.workflow.fail_step import FailStep  # noqa: E402
from sagemaker.workflow.function_step import step  # noqa: E402
from sagemaker.workflow.functions import Join  # noqa: E402
from sagemaker.workflow.parameters import ParameterFloat, ParameterString  # noqa: E402
from sagemaker.workflow.pipeline import Pipeline  # noqa: E402

from tests.services.pipelines.abalone import INSTANCE, ROLE, session  # noqa: E402

# Pickled by value, as functions defined in a notebook are: the job need not import this module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# SageMaker's base Python image; sagebox runs @step functions with this machine's Python.
IMAGE = "081325390199.dkr.ecr.us-east-1.amazonaws.com/sagemaker-base-python-311:1.0"
SETTINGS: dict[str, Any] = {
    "image_uri": IMAGE,
    "instance_type": INSTANCE,
    "role": ROLE,
    "keep_alive_period_in_seconds": 0,
}


@step(name="Train", **SETTINGS)
def train(input_uri: str, max_depth: int = 3) -> tuple:
    """Reads the raw data from S3, keeps a fifth for testing and trains on the rest."""
    import io

    import boto3
    import pandas as pd
    import xgboost

    bucket, key = input_uri.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    data = pd.read_csv(io.BytesIO(body)).sample(frac=1.0, random_state=0).to_numpy()
    cut = int(0.8 * len(data))
    matrix = xgboost.DMatrix(data[:cut, 1:], label=data[:cut, 0])
    booster = xgboost.train(
        {"objective": "reg:squarederror", "max_depth": max_depth, "eta": 0.3},
        matrix,
        num_boost_round=20,
    )
    return booster, data[cut:]


@step(name="Evaluate", **SETTINGS)
def evaluate(model: Any, test_rows: Any) -> dict:
    import xgboost

    predictions = model.predict(xgboost.DMatrix(test_rows[:, 1:]))
    return {
        "mse": float(((test_rows[:, 0] - predictions) ** 2).mean()),
        "rows": int(len(test_rows)),
    }


def function_pipeline(name: str, bucket: str) -> Pipeline:
    input_data = ParameterString(
        name="InputData", default_value=f"s3://{bucket}/abalone/raw/data.csv"
    )
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6000.0)
    trained = train(input_data)
    report = evaluate(trained[0], trained[1])
    check = ConditionStep(
        name="CheckMse",
        conditions=[ConditionLessThanOrEqualTo(left=report["mse"], right=mse_threshold)],
        if_steps=[],
        else_steps=[
            FailStep(
                name="MseTooHigh",
                error_message=Join(on=" ", values=["MSE is above", mse_threshold]),
            )
        ],
    )
    return Pipeline(
        name=name,
        parameters=[input_data, mse_threshold],
        steps=[check],
        sagemaker_session=session(bucket),
    )
