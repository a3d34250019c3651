"""The container contract pieces on their own: command rewriting, the /opt/ml redirect, staging."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sagebox.objects import LocalObjectStore
from sagebox.runtime.processing_workspace import ProcessingWorkspace
from sagebox.services.errors import ValidationError
from sagebox.services.processing.command import build_argv, is_python
from sagebox.services.processing.inputs import InputDataError, stage_input
from sagebox.services.processing.outputs import OutputFolder, OutputUploader
from sagebox.services.processing.requests import InputSpec, OutputSpec, container_path


@pytest.fixture()
def workspace(tmp_path: Path) -> ProcessingWorkspace:
    return ProcessingWorkspace(tmp_path / "job")


def test_python_is_the_servers_interpreter(workspace: ProcessingWorkspace) -> None:
    for program in ("python", "python3", "python3.11", "/usr/bin/python3", "/usr/local/bin/python3.12"):
        assert is_python(program), program
        assert build_argv([program, "-V"], workspace) == [sys.executable, "-V"]
    for program in ("bash", "pythonic", "python3-config", "/opt/conda/bin/ipython"):
        assert not is_python(program), program


def test_container_paths_in_arguments_are_rewritten(workspace: ProcessingWorkspace) -> None:
    root = workspace.root
    argv = build_argv(
        ["python3", "/opt/ml/processing/input/code/run.py"],
        workspace,
    ) + build_argv(
        ["bash", "/opt/ml/processing", "--out=/opt/ml/processing/output", "--n=3", "x=/opt/ml/processing/a",
         "/opt/mlx/a", "/opt/ml/config/resourceconfig.json", "s3://b/opt/ml/processing"],
        workspace,
    )
    assert argv == [
        sys.executable, f"{root}/processing/input/code/run.py",
        "bash", f"{root}/processing", f"--out={root}/processing/output", "--n=3", "x=/opt/ml/processing/a",
        "/opt/mlx/a", f"{root}/config/resourceconfig.json", "s3://b/opt/ml/processing",
    ]
    assert build_argv(["/opt/ml/processing/input/code/run.sh"], workspace) == [f"{root}/processing/input/code/run.sh"]


@pytest.mark.parametrize(
    ("given", "normalized"),
    [("/opt/ml/processing/input", "/opt/ml/processing/input"), ("/opt/ml/processing/a/./b/", "/opt/ml/processing/a/b")],
)
def test_local_paths_are_normalized(given: str, normalized: str) -> None:
    assert container_path("LocalPath", given) == normalized


@pytest.mark.parametrize("given", ["/opt/ml/processing", "/opt/ml/processing/../model", "/opt/ml/processingx/a", "opt/ml/processing/a", ""])
def test_local_paths_outside_the_processing_folder_are_refused(given: str) -> None:
    with pytest.raises(ValidationError) as info:
        container_path("ProcessingInputs[0].S3Input.LocalPath", given)
    assert info.value.message.startswith(f"ProcessingInputs[0].S3Input.LocalPath '{given}' is not valid")


def _run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_hard_coded_opt_ml_paths_reach_the_job_folder(workspace: ProcessingWorkspace) -> None:
    (workspace.root / "processing" / "input").mkdir(parents=True)
    (workspace.root / "processing" / "input" / "a.csv").write_text("1,2\n")
    env = workspace.environment(job_name="j", region="us-east-1")
    code = (
        "import csv, glob, os, shutil\n"
        "from pathlib import Path\n"
        "rows = list(csv.reader(open('/opt/ml/processing/input/a.csv')))\n"
        "os.makedirs('/opt/ml/processing/output/deep', exist_ok=True)\n"
        "Path('/opt/ml/processing/output/deep/b.txt').write_text(str(rows))\n"
        "shutil.copy('/opt/ml/processing/input/a.csv', '/opt/ml/processing/output/c.csv')\n"
        "os.rename('/opt/ml/processing/output/c.csv', '/opt/ml/processing/output/d.csv')\n"
        "print(sorted(glob.glob('/opt/ml/processing/output/*')), os.path.isdir('/opt/ml/processing'),\n"
        "      sorted(p.name for p in Path('/opt/ml/processing/output').iterdir()))\n"
    )
    done = _run_python(code, env, workspace.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "['/opt/ml/processing/output/d.csv', '/opt/ml/processing/output/deep'] True ['d.csv', 'deep']"
    )
    assert (workspace.root / "processing/output/deep/b.txt").read_text() == "[['1', '2']]"
    assert (workspace.root / "processing/output/d.csv").read_text() == "1,2\n"


def test_the_redirect_can_be_turned_off_and_chains_another_sitecustomize(
    workspace: ProcessingWorkspace, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import os\nos.environ['OTHER_SITECUSTOMIZE'] = 'ran'\n")
    workspace.root.mkdir(parents=True)
    code = "import os; print(os.environ.get('OTHER_SITECUSTOMIZE'), os.path.exists('/opt/ml'))"
    env = workspace.environment(job_name="j", region="us-east-1", base={"PYTHONPATH": str(other), "PATH": "/usr/bin"})
    assert _run_python(code, env, workspace.root).stdout.split() == ["ran", "True"]
    env = workspace.environment(
        job_name="j", region="us-east-1", base={"PATH": "/usr/bin"},
        user_environment={"SAGEBOX_REDIRECT_OPT_ML": "0"},
    )
    assert _run_python(code, env, workspace.root).stdout.split() == ["None", str(Path("/opt/ml").exists())]


@pytest.fixture()
def objects(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects")
    store.create_bucket("data")
    for key in ("set/train/a.csv", "set/train/sub/b.csv", "set/train-extra/c.csv", "set/part-0.csv", "set/part-1.csv"):
        store.put_object("data", key, key.encode())
    store.put_object("data", "zipped/x.csv.gz", gzip.compress(b"x\n"))
    store.put_object("data", "zipped/bad.gz", b"not gzip")
    return store


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        # Every key with the prefix is part of the input, "train-extra/" too (S3Prefix semantics).
        (
            "s3://data/set/train",
            {"a.csv": "set/train/a.csv", "sub/b.csv": "set/train/sub/b.csv", "train-extra/c.csv": "set/train-extra/c.csv"},
        ),
        ("s3://data/set/train/", {"a.csv": "set/train/a.csv", "sub/b.csv": "set/train/sub/b.csv"}),
        ("s3://data/set/train/a.csv", {"a.csv": "set/train/a.csv"}),
        ("s3://data/set/part", {"part-0.csv": "set/part-0.csv", "part-1.csv": "set/part-1.csv"}),
    ],
)
def test_s3_prefix_inputs_land_relative_to_the_prefix(objects: LocalObjectStore, tmp_path: Path, uri: str, expected: dict[str, str]) -> None:
    spec = InputSpec(name="data", local_path="/opt/ml/processing/in", s3_uri=uri)
    assert stage_input(objects, spec, tmp_path / "in") == len(expected)
    assert _files(tmp_path / "in") == expected


def test_gzip_inputs_are_decompressed_and_bad_data_is_a_client_error(objects: LocalObjectStore, tmp_path: Path) -> None:
    spec = InputSpec(name="z", local_path="/opt/ml/processing/z", s3_uri="s3://data/zipped/x", compression="Gzip")
    stage_input(objects, spec, tmp_path / "z")
    assert _files(tmp_path / "z") == {"x.csv": "x\n"}
    bad = InputSpec(name="z", local_path="/opt/ml/processing/z", s3_uri="s3://data/zipped/bad", compression="Gzip")
    with pytest.raises(InputDataError, match="has S3CompressionType Gzip, but s3://data/zipped/bad.gz is not gzip data"):
        stage_input(objects, bad, tmp_path / "bad")
    missing = InputSpec(name="m", local_path="/opt/ml/processing/m", s3_uri="s3://nobucket/x")
    with pytest.raises(InputDataError, match="ClientError: Failed to download data for input 'm' from s3://nobucket/x: NoSuchBucket"):
        stage_input(objects, missing, tmp_path / "m")


def test_a_manifest_cannot_reach_outside_the_local_path(objects: LocalObjectStore, tmp_path: Path) -> None:
    objects.put_object("data", "evil.json", json.dumps([{"prefix": "s3://data/set/"}, "../set/part-0.csv"]).encode())
    spec = InputSpec(name="evil", local_path="/opt/ml/processing/e", s3_uri="s3://data/evil.json", data_type="ManifestFile")
    with pytest.raises(InputDataError, match="maps outside the input's LocalPath"):
        stage_input(objects, spec, tmp_path / "e")


def test_outputs_upload_new_and_changed_files_only(objects: LocalObjectStore, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("1")
    (folder / "sub" / "b.txt").write_text("2")
    (folder / "link.txt").symlink_to(folder / "a.txt")
    spec = OutputSpec(name="out", local_path="/opt/ml/processing/out", s3_uri="s3://data/results/", upload_mode="Continuous")
    uploader = OutputUploader(objects, [OutputFolder(spec, folder)])
    assert uploader.upload(uploader.continuous) == 2
    assert uploader.upload(uploader.continuous) == 0
    (folder / "a.txt").write_text("changed")
    assert uploader.upload(uploader.continuous) == 1
    assert sorted(o.key for o in objects.iter_objects("s3://data/results/")) == ["results/a.txt", "results/sub/b.txt"]
    assert objects.read_bytes("s3://data/results/a.txt") == b"changed"
