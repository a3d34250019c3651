"""Model Monitor: a data quality monitoring execution over a million captured records, and
baselining throughput against pandas' describe, both through a live server.

- Monitoring: 1,000,000 records of an endpoint's capture (SageMaker's capture JSON Lines,
  50 features in CSV plus the model's output) are put in the capture location of one hour;
  a NOW schedule with a data quality job definition (baseline from the baselining job
  below) runs over them. Measured: CreateMonitoringSchedule to the execution's end.
- Baselining: one CSV file (a header, 1,000,000 rows, the output and 50 features) is
  baselined by a processing job on the analyzer image (statistics.json and
  constraints.json); measured from CreateProcessingJob to Completed. The reference is
  ``pandas.read_csv(file).describe()`` on the same file in this process; the two run
  twice, interleaved, and the best of each counts.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROWS = 1_000_000
FEATURES = 50
FILES = 20
ROUNDS = 2
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/Bench"
CLUSTER = {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}


def _rows(rng: np.random.Generator, count: int) -> tuple[list[str], np.ndarray]:
    features = rng.normal(size=(count, FEATURES)).astype(np.float32)
    buffer = io.StringIO()
    np.savetxt(buffer, features, delimiter=",", fmt="%.5g")
    return buffer.getvalue().splitlines(), rng.normal(size=count)


def _baseline_file(path: Path, rng: np.random.Generator) -> None:
    with path.open("w") as out:
        out.write(",".join(["prediction", *(f"f{i}" for i in range(FEATURES))]) + "\n")
        for _ in range(FILES):
            lines, outputs = _rows(rng, ROWS // FILES)
            out.writelines(f"{o:.6f},{line}\n" for o, line in zip(outputs, lines, strict=True))


def _capture_files(folder: Path, rng: np.random.Generator, moment: datetime) -> list[Path]:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.")
    paths = []
    for part in range(FILES):
        lines, outputs = _rows(rng, ROWS // FILES)
        path = folder / f"{moment:%M-%S}-{part:03d}.jsonl"
        with path.open("w") as out:
            for index, (line, output) in enumerate(zip(lines, outputs, strict=True)):
                out.write(
                    '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
                    f'"data":"{line}","encoding":"CSV"}},"endpointOutput":{{"observedContentType":"text/csv; '
                    f'charset=utf-8","mode":"OUTPUT","data":"{output:.6f}","encoding":"CSV"}}}},"eventMetadata":'
                    f'{{"eventId":"{part:04d}-{index:08d}","inferenceTime":"{stamp}{index % 1000:03d}Z"}},'
                    '"eventVersion":"0"}\n'
                )
        paths.append(path)
    return paths


def _baselining_job(sagemaker: Any, name: str) -> None:
    sagemaker.create_processing_job(
        ProcessingJobName=name, RoleArn=ROLE, AppSpecification={"ImageUri": ANALYZER},
        ProcessingResources={"ClusterConfig": CLUSTER},
        ProcessingInputs=[{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": "s3://bench/baseline/baseline.csv", "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": f"s3://bench/baseline-results/{name}", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        Environment={"dataset_format": json.dumps({"csv": {"header": True}}),
                     "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
                     "output_path": "/opt/ml/processing/output", "publish_cloudwatch_metrics": "Disabled"},
    )
    baselined = _wait_job(sagemaker, name)
    if baselined["ProcessingJobStatus"] != "Completed":
        raise RuntimeError(f"baselining failed: {baselined.get('FailureReason')}")


def _wait_job(sagemaker: Any, name: str) -> dict[str, Any]:
    while True:
        described = sagemaker.describe_processing_job(ProcessingJobName=name)
        if described["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.1)


def _analyzer_seconds(logs: Any, job: str) -> float | None:
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=job)["logStreams"]
    for stream in streams:
        events = logs.get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream["logStreamName"])["events"]
        for event in events:
            found = re.search(r"\((\d+\.\d+) s\)$", event["message"])
            if found:
                return float(found.group(1))
    return None


def _endpoint(sagemaker: Any, s3: Any, rng: np.random.Generator) -> str:
    """A small model behind an endpoint that captures data: the monitored endpoint."""
    lines, outputs = _rows(rng, 500)
    s3.put_object(Bucket="bench", Key="model-train/train.csv",
                  Body="".join(f"{o:.6f},{line}\n" for o, line in zip(outputs, lines, strict=True)).encode())
    sagemaker.create_training_job(
        TrainingJobName="bench-monitored-model", RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
        HyperParameters={"objective": "reg:squarederror", "num_round": "2"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://bench/model-train/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://bench/model"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    sagemaker.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="bench-monitored-model", WaiterConfig={"Delay": 1})
    model = sagemaker.describe_training_job(TrainingJobName="bench-monitored-model")["ModelArtifacts"]["S3ModelArtifacts"]
    sagemaker.create_model(ModelName="bench-monitored", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGBOOST, "ModelDataUrl": model})
    sagemaker.create_endpoint_config(EndpointConfigName="bench-monitored", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "bench-monitored", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://bench/capture",
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
    sagemaker.create_endpoint(EndpointName="bench-monitored", EndpointConfigName="bench-monitored")
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="bench-monitored", WaiterConfig={"Delay": 1})
    return "bench-monitored"


def run() -> dict[str, Any]:
    import boto3
    import pandas as pd

    from sagebox.cli.server_process import ServerProcess

    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-") as scratch:
        work = Path(scratch)
        server = ServerProcess(work / "home").start()
        try:
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            logs = boto3.client("logs", endpoint_url=server.endpoint_url)
            s3.create_bucket(Bucket="bench")
            baseline = work / "baseline.csv"
            _baseline_file(baseline, rng)

            s3.upload_file(str(baseline), "bench", "baseline/baseline.csv")
            pandas_runs, baseline_runs = [], []
            for attempt in range(ROUNDS):  # interleaved, so that both see the same machine
                started = time.perf_counter()
                pd.read_csv(baseline).describe()
                pandas_runs.append(time.perf_counter() - started)
                started = time.perf_counter()
                _baselining_job(sagemaker, f"bench-baseline-{attempt}")
                baseline_runs.append(time.perf_counter() - started)
            pandas_seconds, baseline_seconds = min(pandas_runs), min(baseline_runs)
            best = f"bench-baseline-{baseline_runs.index(baseline_seconds)}"
            baseline_analyzer = _analyzer_seconds(logs, best)

            endpoint = _endpoint(sagemaker, s3, rng)
            now = datetime.now(UTC)
            folder = work / "capture"
            folder.mkdir()
            for path in _capture_files(folder, rng, now):
                s3.upload_file(str(path), "bench", f"capture/{endpoint}/AllTraffic/{now:%Y/%m/%d/%H}/{path.name}")
                path.unlink()
            sagemaker.create_data_quality_job_definition(
                JobDefinitionName="bench-dq",
                DataQualityBaselineConfig={"BaseliningJobName": best},
                DataQualityAppSpecification={"ImageUri": ANALYZER},
                DataQualityJobInput={"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}},
                DataQualityJobOutputConfig={"MonitoringOutputs": [{"S3Output": {
                    "S3Uri": "s3://bench/reports", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
                JobResources={"ClusterConfig": CLUSTER}, RoleArn=ROLE, StoppingCondition={"MaxRuntimeInSeconds": 3600},
            )
            started = time.perf_counter()
            sagemaker.create_monitoring_schedule(MonitoringScheduleName="bench-now", MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "PT5M"},
                "MonitoringJobDefinitionName": "bench-dq", "MonitoringType": "DataQuality"})
            while True:
                found = sagemaker.list_monitoring_executions(MonitoringScheduleName="bench-now")["MonitoringExecutionSummaries"]
                if found and found[0]["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations", "Failed", "Stopped"):
                    break
                time.sleep(0.1)
            monitoring_seconds = time.perf_counter() - started
            execution = found[0]
            if execution["MonitoringExecutionStatus"] == "Failed":
                raise RuntimeError(f"monitoring failed: {execution.get('FailureReason')}")
            job = execution["ProcessingJobArn"].rsplit("/", 1)[1]
            monitoring_analyzer = _analyzer_seconds(logs, job)
            report = sagemaker.describe_processing_job(ProcessingJobName=job)["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
            key = report.split("/", 3)[3] + "/statistics.json"
            item_count = json.loads(s3.get_object(Bucket="bench", Key=key)["Body"].read())["dataset"]["item_count"]
        finally:
            server.stop()
    throughput, reference = ROWS / baseline_seconds, ROWS / pandas_seconds
    ratio = throughput / reference
    return {
        "name": "model_monitor",
        "rows": [
            {"measure": f"data quality monitoring execution over {item_count:,} captured records x {FEATURES} features: "
                        "CreateMonitoringSchedule (NOW) to the execution's end (s)",
             "sagebox": f"{monitoring_seconds:.1f} (the analyzer itself: {monitoring_analyzer or float('nan'):.1f})",
             "reference": "", "ratio": "", "target": "<= 60 s", "met": "yes" if monitoring_seconds <= 60 else "no"},
            {"measure": f"baselining a {ROWS:,}-row x {FEATURES + 1}-column CSV: rows/s, CreateProcessingJob to Completed",
             "sagebox": f"{throughput:,.0f} ({baseline_seconds:.1f} s; the analyzer itself: {baseline_analyzer or float('nan'):.1f} s)",
             "reference": f"{reference:,.0f} (pandas.read_csv + DataFrame.describe, {pandas_seconds:.1f} s)",
             "ratio": f"{ratio:.2f}x", "target": ">= 0.5x", "met": "yes" if ratio >= 0.5 else "no"},
        ],
        "notes": f"Execution {execution['MonitoringExecutionStatus']}; load average while measured: {os.getloadavg()[0]:.1f} "
                 f"on {os.cpu_count()} CPUs (the machine is shared).",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
