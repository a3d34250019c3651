"""The official abalone MLOps pipeline, in SageMaker Python SDK v2 code, on a tiny data set.

Unchanged in shape from the AWS example: parameters; a scikit-learn ProcessingStep that
splits the data; an XGBoost TrainingStep on its outputs (through ``properties``); a
TuningStep beside it; an evaluation ProcessingStep writing a PropertyFile; a ConditionStep
on ``JsonGet`` of the report that registers the model (RegisterModel), creates it and runs
a batch transform with it (and creates the tuning job's best model), else a FailStep
with a ``Join``-built message. The data is scikit-learn's diabetes set (442 rows).
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
from sklearn.datasets import load_diabetes

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

from sagemaker import image_uris  # noqa: E402
from sagemaker.estimator import Estimator  # noqa: E402
from sagemaker.inputs import TrainingInput  # noqa: E402
from sagemaker.model import Model  # noqa: E402
from sagemaker.model_metrics import MetricsSource, ModelMetrics  # noqa: E402
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor  # noqa: E402
from sagemaker.sklearn.processing import SKLearnProcessor  # noqa: E402
from sagemaker.transformer import Transformer  # noqa: E402
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner  # noqa: E402
from sagemaker.workflow.condition_step import ConditionStep  # noqa: E402
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo  # noqa: E402
from sagemaker.workflow.fail_step import FailStep  # noqa: E402
from sagemaker.workflow.functions import Join, JsonGet  # noqa: E402
from sagemaker.workflow.model_step import ModelStep  # noqa: E402
from sagemaker.workflow.parameters import (  # noqa: E402
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
)
from sagemaker.workflow.pipeline import Pipeline  # noqa: E402
from sagemaker.workflow.pipeline_context import PipelineSession  # noqa: E402
from sagemaker.workflow.properties import PropertyFile  # noqa: E402
from sagemaker.workflow.steps import (  # noqa: E402
    CacheConfig,
    ProcessingStep,
    TrainingStep,
    TransformStep,
    TuningStep,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
INSTANCE = "ml.m5.large"
# What `sagebox env` writes for the SDK: no telemetry calls home.
SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def upload_data(s3: Any, bucket: str) -> None:
    """The raw data (label first, with a header) and the batch data (features only)."""
    data = load_diabetes()
    raw = io.StringIO()
    columns = ["target", *[f"x{i}" for i in range(data.data.shape[1])]]
    np.savetxt(
        raw,
        np.column_stack([data.target, data.data]),
        delimiter=",",
        fmt="%.8g",
        header=",".join(columns),
        comments="",
    )
    s3.put_object(Bucket=bucket, Key="abalone/raw/data.csv", Body=raw.getvalue().encode())
    batch = io.StringIO()
    np.savetxt(batch, data.data[:20], delimiter=",", fmt="%.8g")
    s3.put_object(Bucket=bucket, Key="abalone/batch/data.csv", Body=batch.getvalue().encode())


def session(bucket: str) -> PipelineSession:
    import boto3

    return PipelineSession(
        boto_session=boto3.Session(region_name="us-east-1"),
        default_bucket=bucket,
        sagemaker_config=SDK_CONFIG,
    )


def abalone_pipeline(name: str, bucket: str, group: str, *, cache: bool = False) -> Pipeline:
    pipeline_session = session(bucket)
    cache_config = CacheConfig(enable_caching=True, expire_after="PT1H") if cache else None
    processing_instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    instance_type = ParameterString(
        name="TrainingInstanceType", default_value=INSTANCE, enum_values=[INSTANCE, "ml.m5.xlarge"]
    )
    approval = ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval")
    input_data = ParameterString(name="InputData", default_value=f"s3://{bucket}/abalone/raw")
    batch_data = ParameterString(name="BatchData", default_value=f"s3://{bucket}/abalone/batch")
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6000.0)
    shuffle = ParameterBoolean(name="ShuffleData", default_value=True)

    processor = SKLearnProcessor(
        framework_version="1.2-1",
        instance_type=INSTANCE,
        instance_count=processing_instance_count,
        base_job_name="sklearn-abalone-process",
        role=ROLE,
        sagemaker_session=pipeline_session,
    )
    step_process = ProcessingStep(
        name="AbaloneProcess",
        step_args=processor.run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name=n, source=f"/opt/ml/processing/{n}")
                for n in ("train", "validation", "test")
            ],
            code=os.path.join(SCRIPTS, "preprocessing.py"),
            arguments=["--shuffle", shuffle.to_string()],
        ),
        cache_config=cache_config,
    )
    outputs = step_process.properties.ProcessingOutputConfig.Outputs
    image = image_uris.retrieve("xgboost", "us-east-1", "1.7-1")
    estimator = Estimator(
        image,
        instance_type=instance_type,
        instance_count=1,
        output_path=f"s3://{bucket}/abalone/model",
        role=ROLE,
        sagemaker_session=pipeline_session,
    )
    estimator.set_hyperparameters(objective="reg:squarederror", num_round=20, max_depth=3, eta=0.3)
    channels = {
        "train": TrainingInput(s3_data=outputs["train"].S3Output.S3Uri, content_type="text/csv"),
        "validation": TrainingInput(
            s3_data=outputs["validation"].S3Output.S3Uri, content_type="text/csv"
        ),
    }
    step_train = TrainingStep(
        name="AbaloneTrain", step_args=estimator.fit(inputs=channels), cache_config=cache_config
    )
    tuner = HyperparameterTuner(
        estimator,
        "validation:rmse",
        {"eta": ContinuousParameter(0.1, 0.5)},
        objective_type="Minimize",
        max_jobs=2,
        max_parallel_jobs=2,
        strategy="Random",
    )
    step_tune = TuningStep(
        name="AbaloneTune", step_args=tuner.fit(inputs=channels), cache_config=cache_config
    )

    evaluator = ScriptProcessor(
        image_uri=image,
        command=["python3"],
        instance_type=INSTANCE,
        instance_count=1,
        base_job_name="script-abalone-eval",
        role=ROLE,
        sagemaker_session=pipeline_session,
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    step_eval = ProcessingStep(
        name="AbaloneEval",
        step_args=evaluator.run(
            inputs=[
                ProcessingInput(
                    source=step_train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/model",
                ),
                ProcessingInput(
                    source=outputs["test"].S3Output.S3Uri, destination="/opt/ml/processing/test"
                ),
            ],
            outputs=[
                ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")
            ],
            code=os.path.join(SCRIPTS, "evaluation.py"),
        ),
        property_files=[report],
        cache_config=cache_config,
    )

    model = Model(
        image_uri=image,
        model_data=step_train.properties.ModelArtifacts.S3ModelArtifacts,
        sagemaker_session=pipeline_session,
        role=ROLE,
    )
    step_create_model = ModelStep(
        name="AbaloneCreateModel", step_args=model.create(instance_type=INSTANCE)
    )
    transformer = Transformer(
        model_name=step_create_model.properties.ModelName,
        instance_type=INSTANCE,
        instance_count=1,
        output_path=f"s3://{bucket}/abalone/transform",
        sagemaker_session=pipeline_session,
    )
    step_transform = TransformStep(
        name="AbaloneTransform",
        step_args=transformer.transform(data=batch_data, content_type="text/csv"),
    )
    evaluation_uri = step_eval.arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"][
        "S3Uri"
    ]
    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=f"{evaluation_uri}/evaluation.json", content_type="application/json"
        )
    )
    step_register = ModelStep(
        name="AbaloneRegisterModel",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[INSTANCE],
            transform_instances=[INSTANCE],
            model_package_group_name=group,
            approval_status=approval,
            model_metrics=metrics,
        ),
    )
    best_model = Model(
        image_uri=image,
        model_data=step_tune.get_top_model_s3_uri(
            top_k=0, s3_bucket=bucket, prefix="abalone/model"
        ),
        sagemaker_session=pipeline_session,
        role=ROLE,
    )
    step_best_model = ModelStep(
        name="AbaloneBestTunedModel", step_args=best_model.create(instance_type=INSTANCE)
    )
    step_fail = FailStep(
        name="AbaloneMSEFail",
        error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold]),
    )
    step_cond = ConditionStep(
        name="AbaloneMSECond",
        conditions=[
            ConditionLessThanOrEqualTo(
                left=JsonGet(
                    step_name=step_eval.name,
                    property_file=report,
                    json_path="regression_metrics.mse.value",
                ),
                right=mse_threshold,
            )
        ],
        if_steps=[step_register, step_create_model, step_transform, step_best_model],
        else_steps=[step_fail],
    )
    return Pipeline(
        name=name,
        parameters=[
            processing_instance_count,
            instance_type,
            approval,
            input_data,
            batch_data,
            mse_threshold,
            shuffle,
        ],
        steps=[step_process, step_train, step_tune, step_eval, step_cond],
        sagemaker_session=pipeline_session,
    )
