"""Processing jobs through the SageMaker Python SDK v2, unchanged from how one runs them against AWS.

SKLearnProcessor on an S3 input with streamed logs, ScriptProcessor with the scikit-learn
image on a local input, and FrameworkProcessor, which runs the script from a source folder
through its runproc.sh; prints what each job wrote and how it was described.
"""

import os

import numpy as np
import pandas as pd
import sagemaker
from sagemaker import image_uris
from sagemaker.processing import (
    FrameworkProcessor,
    ProcessingInput,
    ProcessingOutput,
    ScriptProcessor,
)
from sagemaker.s3 import S3Downloader
from sagemaker.sklearn import SKLearn
from sagemaker.sklearn.processing import SKLearnProcessor

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "processing_code")
CODE = os.path.join(SOURCE, "preprocess.py")
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

session = sagemaker.Session()
bucket = session.default_bucket()
generator = np.random.default_rng(0)
frame = pd.DataFrame(generator.normal(size=(100, 4)), columns=[f"x{i}" for i in range(4)])
frame.insert(0, "label", (frame["x0"] + frame["x1"] > 0).astype(int))
os.makedirs("raw", exist_ok=True)
frame.to_csv("raw/data.csv", index=False)
raw = session.upload_data("raw/data.csv", bucket=bucket, key_prefix="sdk-processing/raw")


def report(tag, processor):
    """Prints the job's description and the rows of each output it uploaded, found from the description."""
    described = processor.jobs[-1].describe()
    print(tag, "status", described["ProcessingJobStatus"])
    print(tag, "entrypoint", " ".join(described["AppSpecification"]["ContainerEntrypoint"]))
    print(tag, "arguments", " ".join(described["AppSpecification"].get("ContainerArguments", [])))
    print(tag, "inputs", " ".join(i["InputName"] for i in described["ProcessingInputs"]))
    for output in described["ProcessingOutputConfig"]["Outputs"]:
        uri = output["S3Output"]["S3Uri"]
        for path in S3Downloader.list(uri, sagemaker_session=session):
            rows = S3Downloader.read_file(path, sagemaker_session=session).splitlines()
            print(
                tag,
                "output",
                output["OutputName"],
                path[len(uri) :],
                len(rows),
                len(rows[0].split(",")),
            )


sklearn_processor = SKLearnProcessor(
    framework_version="1.2-1",
    role=ROLE,
    instance_type="ml.m5.large",
    instance_count=1,
    sagemaker_session=session,
)
sklearn_processor.run(
    code=CODE,
    inputs=[ProcessingInput(source=raw, destination="/opt/ml/processing/input")],
    outputs=[
        ProcessingOutput(
            output_name=split,
            source=f"/opt/ml/processing/{split}",
            destination=f"s3://{bucket}/sdk-processing/sklearn/{split}",
        )
        for split in ("train", "test")
    ],
    arguments=["--train-test-split-ratio", "0.2"],
    logs=True,
)
report("sklearn", sklearn_processor)

script_processor = ScriptProcessor(
    image_uri=image_uris.retrieve("sklearn", session.boto_region_name, "1.2-1"),
    command=["python3"],
    role=ROLE,
    instance_type="ml.m5.large",
    instance_count=1,
    sagemaker_session=session,
)
script_processor.run(
    code=CODE,
    inputs=[ProcessingInput(source="raw", destination="/opt/ml/processing/input")],
    outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train")],
    arguments=["--train-test-split-ratio", "0.5"],
    logs=False,
)
report("script", script_processor)

framework_processor = FrameworkProcessor(
    estimator_cls=SKLearn,
    framework_version="1.2-1",
    role=ROLE,
    instance_type="ml.m5.large",
    instance_count=1,
    sagemaker_session=session,
)
framework_processor.run(
    code="preprocess.py",
    source_dir=SOURCE,
    inputs=[ProcessingInput(source=raw, destination="/opt/ml/processing/input")],
    outputs=[ProcessingOutput(output_name="test", source="/opt/ml/processing/test")],
    arguments=["--train-test-split-ratio", "0.25"],
    logs=False,
)
report("framework", framework_processor)
