"""PyTorch DistributedDataParallel across two hosts of a pytorch-training job, as SageMaker runs it."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest

from tests.services.training.jobs import unique, wait_for
from tests.services.training.multi_host_jobs import multi_host_job, tar_members

torch = pytest.importorskip(
    "torch",
    reason="torch is not installed: the pytorch-training image's DDP test needs it (pip install torch)",
)

PYTORCH_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.13.0-cpu-py311"
WEIGHTS, BIAS = (2.0, -3.0), 1.0

DDP_SCRIPT = """
import json
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

dist.init_process_group(backend="gloo")
rank, world = dist.get_rank(), dist.get_world_size()
host = os.environ["SM_CURRENT_HOST"]
assert json.loads(os.environ["SM_HOSTS"])[rank] == host

folder = os.environ["SM_CHANNEL_TRAIN"]
files = sorted(os.listdir(folder))
rows = [[float(v) for v in line.split(",")] for f in files for line in open(os.path.join(folder, f)) if line.strip()]
data = torch.tensor(rows)
y, x = data[:, :1], data[:, 1:]

torch.manual_seed(0)
model = torch.nn.Linear(x.shape[1], 1)
ddp = DistributedDataParallel(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
for step in range(int(os.environ.get("SM_HP_STEPS", "100"))):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(ddp(x), y)
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step} train-loss: {loss.item():.6f}", flush=True)

ranks = torch.tensor([float(rank + 1)])
dist.all_reduce(ranks)
total_rows = torch.tensor([float(len(x))])
dist.all_reduce(total_rows)
params = torch.cat([p.detach().flatten() for p in model.parameters()])
gathered = [torch.zeros_like(params) for _ in range(world)]
dist.all_gather(gathered, params)
summary = {
    "rank": rank, "world": world, "rank_sum": ranks.item(), "rows": len(x), "total_rows": total_rows.item(),
    "replicas_equal": all(torch.allclose(g, params) for g in gathered), "files": files,
}
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], f"{host}.json"), "w") as handle:
    json.dump(summary, handle)
if rank == 0:
    torch.save(model.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pt"))
dist.barrier()
dist.destroy_process_group()
"""


@pytest.fixture(scope="module")
def ddp_bucket(s3: Any) -> str:
    """Four CSV parts of y = 2 x1 - 3 x2 + 1 (label first), sharded two per host."""
    name = unique("ddp")
    s3.create_bucket(Bucket=name)
    rng = np.random.default_rng(7)
    for part in range(4):
        x = rng.normal(size=(25, 2))
        y = x @ np.array(WEIGHTS) + BIAS
        lines = "".join(
            f"{label:.8f},{a:.8f},{b:.8f}\n" for label, (a, b) in zip(y, x, strict=True)
        )
        s3.put_object(Bucket=name, Key=f"multi/sharded/part-{part}.csv", Body=lines.encode())
    s3.put_object(Bucket=name, Key="multi/full/unused.csv", Body=b"0,0,0\n")
    return name


def test_two_hosts_train_one_model_with_distributed_data_parallel(
    sagemaker: Any, s3: Any, ddp_bucket: str
) -> None:
    request = multi_host_job(s3, ddp_bucket, DDP_SCRIPT, image=PYTORCH_IMAGE)
    request["HyperParameters"]["steps"] = "150"
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "train:loss", "Regex": r"train-loss: ([0-9.e-]+)"}
    ]
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, name, timeout=240)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} == {"train:loss"}

    summaries = tar_members(s3, ddp_bucket, f"output/{name}/output/output.tar.gz")
    seen = {host: json.loads(summaries[f"{host}.json"]) for host in ("algo-1", "algo-2")}
    assert [seen[h]["rank"] for h in ("algo-1", "algo-2")] == [0, 1]
    for summary in seen.values():
        assert summary["world"] == 2 and summary["rank_sum"] == 3.0
        assert summary["rows"] == 50 and summary["total_rows"] == 100.0
        assert summary["replicas_equal"] is True
    assert seen["algo-1"]["files"] == ["part-0.csv", "part-2.csv"]
    assert seen["algo-2"]["files"] == ["part-1.csv", "part-3.csv"]

    model = tar_members(s3, ddp_bucket, f"output/{name}/output/model.tar.gz")
    assert list(model) == ["model.pt"], "only rank 0 saves the model"
    state = torch.load(io.BytesIO(model["model.pt"]), weights_only=True)
    assert torch.allclose(state["weight"], torch.tensor([list(WEIGHTS)]), atol=0.05)
    assert abs(state["bias"].item() - BIAS) < 0.05
