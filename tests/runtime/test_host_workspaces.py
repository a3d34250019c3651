"""Several hosts' workspaces: their own /opt/ml trees, resourceconfig.json and rendezvous variables."""

from __future__ import annotations

import json
from pathlib import Path

from sagebox.runtime.script_mode import ScriptInvocation
from sagebox.runtime.training_workspace import ChannelSpec, host_workspaces


def test_one_host_is_the_job_folder_itself(tmp_path: Path) -> None:
    (workspace,) = host_workspaces(tmp_path / "job", 1)
    assert workspace.root == tmp_path / "job" and workspace.hosts == ("algo-1",)
    assert workspace.log_file == tmp_path / "job" / "logs" / "algo-1.jsonl"


def test_each_host_has_its_own_tree_and_resource_config(tmp_path: Path) -> None:
    job = tmp_path / "job"
    workspaces = host_workspaces(job, 3)
    assert [w.host for w in workspaces] == ["algo-1", "algo-2", "algo-3"]
    assert [w.rank for w in workspaces] == [0, 1, 2] and workspaces[0].is_leader
    for workspace in workspaces:
        workspace.create({"epochs": "2"}, [ChannelSpec("train", distribution="ShardedByS3Key")])
        assert workspace.root == job / "hosts" / workspace.host
        assert workspace.log_file == job / "logs" / f"{workspace.host}.jsonl"
        resource = json.loads((workspace.config_dir / "resourceconfig.json").read_text())
        assert resource["current_host"] == workspace.host
        assert resource["hosts"] == ["algo-1", "algo-2", "algo-3"]
        assert resource["instance_groups"][0]["hosts"] == resource["hosts"]
        data_config = json.loads((workspace.config_dir / "inputdataconfig.json").read_text())
        assert data_config["train"]["S3DistributionType"] == "ShardedByS3Key"
        assert (workspace.channel_dir("train")).is_dir() and workspace.model_dir.is_dir()


def test_script_environment_carries_the_rendezvous(tmp_path: Path) -> None:
    workspaces = host_workspaces(tmp_path / "job", 2)
    seen = []
    for workspace in workspaces:
        invocation = ScriptInvocation(
            program="train.py", code_dir=workspace.root / "code", hyperparameters={"lr": "0.1"}
        )
        seen.append(
            invocation.environment(
                workspace,
                job_name="j",
                job_arn="arn",
                channels=[ChannelSpec("train")],
                base={},
                master_port=29512,
            )
        )
    for rank, env in enumerate(seen):
        assert env["SM_CURRENT_HOST"] == f"algo-{rank + 1}"
        assert json.loads(env["SM_HOSTS"]) == ["algo-1", "algo-2"]
        assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("127.0.0.1", "29512")
        assert (env["WORLD_SIZE"], env["RANK"], env["NODE_RANK"], env["LOCAL_RANK"]) == (
            "2",
            str(rank),
            str(rank),
            "0",
        )
        assert env["SM_MASTER_ADDR"] == "127.0.0.1" and env["SM_MASTER_PORT"] == "29512"
        assert env["SM_IS_MASTER"] == ("true" if rank == 0 else "false")
        assert json.loads(env["SM_RESOURCE_CONFIG"])["current_host"] == f"algo-{rank + 1}"
        assert env["SM_MODEL_DIR"] == str(workspaces[rank].model_dir)
        training_env = json.loads(env["SM_TRAINING_ENV"])
        assert training_env["current_host"] == f"algo-{rank + 1}"
        assert training_env["master_hostname"] == "algo-1"
