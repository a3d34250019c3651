"""Scaling of a tuning job over Ray nodes: 12 trials at MaxParallelTrainingJobs 1, 2 and 3
on a cluster of three one-CPU nodes.

One `sagebox serve` (SQLite, a local object folder) with the Ray executor on a three-node
Ray cluster started here (Ray's own multi-node test cluster, tests/ray_cluster.py: three
raylets of one CPU and 4 GiB each). `resource_scale=0.25` makes an ml.m5.xlarge host
(4 vCPUs, 16 GiB) reserve exactly one node, so a node runs one trial at a time and three
trials at once need three nodes. `--max-concurrent-jobs 3` lets the server run three
training jobs at once (its default is 2, sized for one laptop).

Two workloads, each the same tuning job (Random strategy, a fixed RandomSeed, 12 trials)
at MaxParallelTrainingJobs 1, 2 and 3; the wall time is CreateHyperParameterTuningJob to
Completed as a boto3 client sees it:

- **compute**: the built-in XGBoost algorithm on a synthetic CSV, a fixed num_round and
  max_depth (only eta and lambda are tuned), so every trial does the same work. Each trial
  is single-threaded: XGBoost's nthread follows the host's CPUs (SM_NUM_CPUS, what its
  actor reserved: one), which the benchmark reads back from every trial's log. This
  machine has 2 CPUs for three nodes (and the API server, and other work), so CPU-bound
  trials cannot reach 3x here: this is what the machine can show.
- **placement**: a script-mode training job (scikit-learn image) that sleeps a fixed time
  and prints its Ray node; it measures sagebox's placement and scheduling (how many
  trials run at once, on how many nodes, and what each trial costs around its work),
  not compute.

Per run: speed-up against MaxParallelTrainingJobs 1 and as a fraction of linear; the
effective parallelism, the sum of the trials' training times (TrainingStartTime to
TrainingEndTime) over the wall time, which separates sagebox's scheduling from the
machine's speed; the most trials whose training overlapped at one moment, and (placement)
the distinct nodes they ran on.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

NODES = 3
TRIALS = 12
PARALLEL = (1, 2, 3)
SEED = 42
INSTANCE = "ml.m5.xlarge"
RESOURCE_SCALE = 0.25  # 4 vCPUs and 16 GiB -> 1 CPU and 4 GiB: one host fills one test node
ROWS, VALIDATION_ROWS, COLUMNS, ROUNDS = 20_000, 5_000, 20, 1000
SLEEP_SECONDS = 6.0
QUICK = {"trials": 3, "rounds": 60, "sleep": 2.0, "parallel": (1, 3)}
TARGET = 0.8  # speed-up as a fraction of linear
POLL_SECONDS = 0.25
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/Bench"
BUCKET = "bench-scaling"

SLEEPER = """
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--level", type=float, required=True)
parser.add_argument("--seconds", type=float, required=True)
args = parser.parse_args()
print("placed " + json.dumps({"node": os.environ.get("SAGEBOX_RAY_NODE_ID", "")}), flush=True)
time.sleep(args.seconds)
print(f"loss={(args.level - 0.3) ** 2:.6f}", flush=True)
"""
SLEEPER_METRIC = {"Name": "loss", "Regex": "loss=([0-9.]+)"}


def _csv(rows: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, COLUMNS)).astype(np.float32)
    y = x[:, 0] * 2 + np.sin(x[:, 1] * 3) + x[:, 2] * x[:, 3] + rng.normal(scale=0.1, size=rows)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, x]), delimiter=",", fmt="%.6g")
    return buffer.getvalue().encode()


def _tar_gz(name: str, text: str) -> bytes:
    import tarfile

    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _channel(name: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{name}/"}
        },
    }


def _definition(workload: str, rounds: int, sleep: float) -> dict[str, Any]:
    common = {
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": INSTANCE, "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    }
    if workload == "compute":
        return {
            **common,
            "StaticHyperParameters": {
                "objective": "reg:squarederror",
                "max_depth": "6",
                "tree_method": "hist",
                "num_round": str(rounds),
            },
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "InputDataConfig": [_channel("train"), _channel("validation")],
        }
    return {
        **common,
        "StaticHyperParameters": {
            "seconds": json.dumps(sleep),
            "sagemaker_program": json.dumps("sleeper.py"),
            "sagemaker_submit_directory": json.dumps(f"s3://{BUCKET}/source/sourcedir.tar.gz"),
            "_tuning_objective_metric": json.dumps(SLEEPER_METRIC["Name"]),
        },
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [SLEEPER_METRIC],
        },
    }


def _config(workload: str, trials: int, parallel: int) -> dict[str, Any]:
    if workload == "compute":
        metric = "validation:rmse"
        ranges = {
            "ContinuousParameterRanges": [
                {
                    "Name": "eta",
                    "MinValue": "0.05",
                    "MaxValue": "0.3",
                    "ScalingType": "Logarithmic",
                },
                {
                    "Name": "lambda",
                    "MinValue": "0.1",
                    "MaxValue": "10",
                    "ScalingType": "Logarithmic",
                },
            ]
        }
    else:
        metric = SLEEPER_METRIC["Name"]
        ranges = {
            "ContinuousParameterRanges": [{"Name": "level", "MinValue": "0", "MaxValue": "1"}]
        }
    return {
        "Strategy": "Random",
        "RandomSeed": SEED,
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": metric},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": trials, "MaxParallelTrainingJobs": parallel},
        "ParameterRanges": ranges,
        "TrainingJobEarlyStoppingType": "Off",
    }


def _log_text(logs: Any, job: str) -> str:
    """Every line of the trial's log streams (CloudWatch Logs API of the same server)."""
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")[
        "logStreams"
    ]
    lines = []
    for stream in streams:
        events = logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
        lines += [event["message"] for event in events]
    return "\n".join(lines)


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The most intervals that hold one moment in common."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in edges:  # at equal times the ends (-1) sort first: touching is not overlapping
        running += step
        most = max(most, running)
    return most


def _tune(
    sagemaker: Any, logs: Any, workload: str, trials: int, parallel: int, rounds: int, sleep: float
) -> dict[str, Any]:
    name = f"scaling-{workload}-{parallel}-{int(time.time() * 1000) % 10**8}"
    began = time.time()
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=_config(workload, trials, parallel),
        TrainingJobDefinition=_definition(workload, rounds, sleep),
    )
    while True:
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if described["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(POLL_SECONDS)
    wall = time.time() - began
    if described["HyperParameterTuningJobStatus"] != "Completed":
        raise RuntimeError(
            f"tuning job {name} ended {described['HyperParameterTuningJobStatus']}: {described.get('FailureReason')}"
        )
    summaries = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )["TrainingJobSummaries"]
    if len(summaries) != trials or {s["TrainingJobStatus"] for s in summaries} != {"Completed"}:
        raise RuntimeError(
            f"tuning job {name}: trials {[(s['TrainingJobName'], s['TrainingJobStatus']) for s in summaries]}"
        )
    intervals, nodes, threads = [], [], set()
    phases: dict[str, float] = {}
    for summary in summaries:
        job = sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
        intervals.append((job["TrainingStartTime"].timestamp(), job["TrainingEndTime"].timestamp()))
        for step in job.get("SecondaryStatusTransitions", []):
            if step.get("EndTime"):
                seconds = (step["EndTime"] - step["StartTime"]).total_seconds()
                phases[step["Status"]] = phases.get(step["Status"], 0.0) + seconds / trials
        text = _log_text(logs, summary["TrainingJobName"])
        for line in text.splitlines():
            if line.startswith("placed "):
                nodes.append(json.loads(line.removeprefix("placed "))["node"])
            if line.startswith("Training with nthread="):
                threads.add(int(line.removeprefix("Training with nthread=")))
    busy = sum(end - start for start, end in intervals)
    return {
        "parallel": parallel,
        "wall": wall,
        "trial_seconds": busy / len(intervals),
        "effective": busy / wall,
        # Slot time not spent training: staging before TrainingStartTime, uploading after
        # TrainingEndTime, the tuning loop noticing an end and starting the next trial.
        "idle_per_trial": (wall * min(parallel, trials) - busy) / trials,
        "most_at_once": _most_at_once(intervals),
        "nodes": len(set(nodes)),
        "threads": sorted(threads),
        # Mean seconds per trial in each secondary status (Starting, Downloading, Training,
        # Uploading): where a trial's time goes as more run at once.
        "phases": {name: round(value, 2) for name, value in phases.items()},
        "best": described.get("BestTrainingJob", {})
        .get("FinalHyperParameterTuningJobObjectiveMetric", {})
        .get("Value"),
    }


def _rows(
    workload: str, runs: list[dict[str, Any]], trials: int, label: str
) -> list[dict[str, Any]]:
    base = runs[0]
    rows = []
    for run in runs:
        speedup = base["wall"] / run["wall"]
        fraction = speedup / run["parallel"]
        placed = f", on {run['nodes']} nodes" if workload == "placement" else ""
        threads = f", nthread {'/'.join(map(str, run['threads']))}" if workload == "compute" else ""
        rows.append(
            {
                "measure": f"{label}: {trials} trials at MaxParallelTrainingJobs {run['parallel']}, create to Completed (s)",
                "sagebox": (
                    f"{run['wall']:.1f} (effective parallelism {run['effective']:.2f}, at most "
                    f"{run['most_at_once']} trials at once{placed}; {run['trial_seconds']:.1f} s training per trial{threads}, "
                    f"{run['idle_per_trial']:.1f} s of slot outside training per trial; mean s per trial by "
                    f"secondary status: {', '.join(f'{k} {v:.1f}' for k, v in run['phases'].items())})"
                ),
                "reference": f"{base['wall']:.1f} at MaxParallelTrainingJobs {base['parallel']}",
                "ratio": f"{speedup:.2f}x speed-up = {fraction:.2f} of linear",
                "target": f">= {TARGET} of linear" if run["parallel"] > 1 else "",
                "met": ("yes" if fraction >= TARGET else "no") if run["parallel"] > 1 else "",
            }
        )
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    import boto3

    from sagebox.cli.server_process import ServerProcess

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.ray_cluster import ray_cluster

    trials = QUICK["trials"] if quick else TRIALS
    rounds = QUICK["rounds"] if quick else ROUNDS
    sleep = QUICK["sleep"] if quick else SLEEP_SECONDS
    parallels = QUICK["parallel"] if quick else PARALLEL
    os.environ.update(
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1"
    )
    loads = [os.getloadavg()[0]]
    started = time.time()
    results: dict[str, list[dict[str, Any]]] = {"compute": [], "placement": []}
    with (
        ray_cluster() as cluster,
        tempfile.TemporaryDirectory(prefix="sagebox-bench-scaling-") as scratch,
    ):
        server = ServerProcess(
            Path(scratch) / "home",
            {"RAY_ADDRESS": cluster.address},
            [
                "--executor",
                f"ray://auto?resource_scale={RESOURCE_SCALE}",
                "--max-concurrent-jobs",
                str(NODES),
            ],
        )
        server.start()
        try:
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            logs = boto3.client("logs", endpoint_url=server.endpoint_url)
            s3.create_bucket(Bucket=BUCKET)
            s3.put_object(Bucket=BUCKET, Key="train/data.csv", Body=_csv(ROWS, 0))
            s3.put_object(Bucket=BUCKET, Key="validation/data.csv", Body=_csv(VALIDATION_ROWS, 1))
            s3.put_object(
                Bucket=BUCKET, Key="source/sourcedir.tar.gz", Body=_tar_gz("sleeper.py", SLEEPER)
            )
            # Warm-up: one trial per node so that every node has started its Ray worker
            # pool before the timed runs (the first run would otherwise pay for it alone).
            _tune(sagemaker, logs, "placement", NODES, NODES, rounds, 0.5)
            for workload in ("compute", "placement"):
                for parallel in parallels:
                    print(f"  {workload} at MaxParallelTrainingJobs {parallel} ...", flush=True)
                    results[workload].append(
                        _tune(sagemaker, logs, workload, trials, parallel, rounds, sleep)
                    )
                    loads.append(os.getloadavg()[0])
                    print(f"    {results[workload][-1]}", flush=True)
        finally:
            server.stop()
    elapsed = time.time() - started
    rows = _rows("compute", results["compute"], trials, "compute (built-in XGBoost, CPU-bound)")
    rows += _rows(
        "placement", results["placement"], trials, "placement (script that sleeps, not compute)"
    )
    return {
        "name": "tuning_scaling" + ("_quick" if quick else ""),
        "rows": rows,
        "runs": results,
        "notes": (
            f"One `sagebox serve` (SQLite, local objects, --max-concurrent-jobs {NODES}) on a Ray cluster of "
            f"{NODES} one-CPU nodes on this machine (tests/ray_cluster.py); {INSTANCE} at resource_scale "
            f"{RESOURCE_SCALE}, so one trial fills one node. Random strategy, RandomSeed {SEED}, {trials} trials. "
            f"Compute: built-in XGBoost, {ROWS} x {COLUMNS} CSV (+{VALIDATION_ROWS} validation rows), "
            f"max_depth 6, {rounds} rounds, eta and lambda tuned; each trial's log says its nthread. "
            f"Placement: a script-mode job sleeping {sleep:g} s that prints its Ray node: it measures "
            "sagebox's scheduling and placement, not compute. Effective parallelism = sum of the trials' "
            "TrainingStartTime..TrainingEndTime over the wall time. The machine has 2 CPUs for the 3 nodes, "
            "the API server, the client and any other work, so the compute rows cannot reach 3x here. "
            f"1-minute load average {', '.join(f'{v:.1f}' for v in loads)} (at the start and after each run); "
            f"the whole benchmark took {elapsed / 60:.1f} min."
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
