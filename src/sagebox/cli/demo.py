"""`sagebox demo`: the whole training flow with plain boto3 against a real, temporary server.

It creates an access key in a temporary home, starts `sagebox serve --auth` on a free
port there, points boto3 at it through AWS_ENDPOINT_URL and that key only, trains the
built-in XGBoost on scikit-learn's breast cancer data, and loads the trained model
from model.tar.gz.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from sagebox.cli.private_home import make_home_private
from sagebox.cli.server_process import ServerProcess
from sagebox.cli.tuning_demo import run_tuning_demo
from sagebox.config import Settings
from sagebox.services.access_keys import AccessKey, AccessKeyService
from sagebox.store import MetadataStore

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "sagebox-demo"


def _csv(features, labels) -> bytes:  # noqa: ANN001 - numpy arrays
    """SageMaker's training CSV: the label first, no header."""
    import numpy as np

    return _csv_rows(np.column_stack([labels, features]))


def _deploy_and_invoke(sagemaker, job: str, artifact: str, rows, expected) -> None:  # noqa: ANN001
    import boto3
    import numpy as np

    runtime = boto3.client("sagemaker-runtime")
    sagemaker.create_model(
        ModelName=job,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=job,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": job, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    )
    started = time.time()
    sagemaker.create_endpoint(EndpointName=job, EndpointConfigName=job)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    print(f"6. endpoint {job} InService after {time.time() - started:.1f} s")
    print(f"   console: {os.environ['AWS_ENDPOINT_URL']}/ui/endpoints/{job}")
    answer = runtime.invoke_endpoint(EndpointName=job, ContentType="text/csv", Body=_csv_rows(rows))
    served = [float(v) for v in answer["Body"].read().decode().replace("\n", ",").split(",") if v.strip()]
    print(f"   invoke_endpoint answered from variant {answer['InvokedProductionVariant']}: "
          + ", ".join(f"{p:.4f}" for p in served))
    print(f"   same as the downloaded model's predictions: {bool(np.allclose(served, expected, rtol=1e-5))}")
    sagemaker.delete_endpoint(EndpointName=job)
    sagemaker.delete_endpoint_config(EndpointConfigName=job)
    sagemaker.delete_model(ModelName=job)
    print("7. deleted the endpoint, its configuration and the model")


def _csv_rows(rows) -> bytes:  # noqa: ANN001 - a numpy array
    import numpy as np

    buffer = io.StringIO()
    np.savetxt(buffer, rows, delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def _create_key(home: Path) -> AccessKey:
    """An access key in the home's store, made before the server starts."""
    settings = Settings.from_env(home=home)
    make_home_private(settings)
    store = MetadataStore(settings.resolved_database_url)
    try:
        return AccessKeyService(store, settings.account_id).create("demo")
    finally:
        store.close()


def run_demo(keep: bool = False, tuning: bool = False) -> int:
    import boto3
    import numpy as np
    import xgboost
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    home = Path(tempfile.mkdtemp(prefix="sagebox-demo-"))
    key = _create_key(home)
    server = ServerProcess(home, extra_args=["--auth"]).start()
    endpoint = server.endpoint_url
    try:
        print(f"1. sagebox serve --auth is running at {endpoint} (home {home})")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID=key.access_key_id,
            AWS_SECRET_ACCESS_KEY=key.secret_access_key,
            AWS_DEFAULT_REGION="us-east-1",
        )
        s3, sagemaker, sts = boto3.client("s3"), boto3.client("sagemaker"), boto3.client("sts")
        print(f"   signed with access key {key.access_key_id}; caller identity: {sts.get_caller_identity()['Arn']}")
        print(f"   console: {endpoint}/ui/ (sign in with {key.access_key_id} / {key.secret_access_key}, a key of this demo's home)")

        data = load_breast_cancer()
        x_train, x_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=0.2, random_state=0, stratify=data.target
        )
        x_fit, x_valid, y_fit, y_valid = train_test_split(
            x_train, y_train, test_size=0.2, random_state=0, stratify=y_train
        )
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="breast-cancer/train/train.csv", Body=_csv(x_fit, y_fit))
        s3.put_object(Bucket=BUCKET, Key="breast-cancer/validation/validation.csv", Body=_csv(x_valid, y_valid))
        print(f"2. uploaded {len(y_fit)} training and {len(y_valid)} validation rows to s3://{BUCKET}/breast-cancer/")

        job = f"demo-xgboost-{int(time.time())}"
        channel = lambda name: {  # noqa: E731
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/breast-cancer/{name}/"}},
        }
        sagemaker.create_training_job(
            TrainingJobName=job,
            AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
            HyperParameters={
                "objective": "binary:logistic",
                "num_round": "200",
                "max_depth": "4",
                "eta": "0.1",
                "eval_metric": "auc,logloss",
                "early_stopping_rounds": "20",
            },
            InputDataConfig=[channel("train"), channel("validation")],
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
        )
        print(f"3. created training job {job}")
        print(f"   watch it live: {endpoint}/ui/training-jobs/{job}")
        seen = 0
        started = time.time()
        while True:
            described = sagemaker.describe_training_job(TrainingJobName=job)
            for transition in described["SecondaryStatusTransitions"][seen:]:
                print(f"   {time.time() - started:5.1f}s  {transition['Status']:<12} {transition['StatusMessage']}")
            seen = len(described["SecondaryStatusTransitions"])
            if described["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
                break
            time.sleep(0.2)
        sagemaker.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        if described["TrainingJobStatus"] != "Completed":
            print(f"   the job ended {described['TrainingJobStatus']}: {described.get('FailureReason')}")
            return 1
        print(f"4. {described['TrainingJobStatus']} in {described['TrainingTimeInSeconds']} s; final metrics:")
        for metric in described["FinalMetricDataList"]:
            print(f"   {metric['MetricName']:<22} {metric['Value']:.6f}")

        artifact = described["ModelArtifacts"]["S3ModelArtifacts"]
        bucket, key = artifact[5:].split("/", 1)
        archive = home / "model.tar.gz"
        s3.download_file(bucket, key, str(archive))
        with tarfile.open(archive) as tar:
            member = tar.extractfile("xgboost-model")
            model_bytes = member.read() if member else b""
        booster = xgboost.Booster(model_file=bytearray(model_bytes))
        probabilities = booster.predict(xgboost.DMatrix(x_test))
        accuracy = float(np.mean((probabilities > 0.5) == y_test))
        print(f"5. downloaded {artifact} and loaded xgboost-model with xgboost.Booster")
        print(f"   test accuracy on {len(y_test)} held-out rows: {accuracy:.4f}")
        for probability, label in list(zip(probabilities, y_test, strict=True))[:5]:
            print(f"   P(benign) = {probability:.4f}   true label = {int(label)}")
        _deploy_and_invoke(sagemaker, job, artifact, x_test[:5], probabilities[:5])
        if tuning:
            run_tuning_demo(sagemaker, BUCKET, "breast-cancer", XGBOOST_IMAGE)
        return 0
    finally:
        server.stop()
        print("sagebox serve stopped")
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
