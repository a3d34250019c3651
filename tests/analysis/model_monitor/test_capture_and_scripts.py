"""Captured traffic read by the analyzer: the Arrow path and the record-by-record path agree,
windows cut to the millisecond, JSON payloads keep their keys, and the user's scripts run
(the analyzer run as its image runs it, in a job folder standing for /opt/ml)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from sagebox.analysis.model_monitor import capture


def record(data: str, output: str, moment: datetime, encoding: str = "CSV", content_type: str = "text/csv") -> str:
    return json.dumps({"captureData": {
        "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": output, "encoding": "CSV"}},
        "eventMetadata": {"eventId": f"id-{output}", "inferenceTime": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
        "eventVersion": "0"})


def test_arrow_and_record_paths_agree_and_windows_cut_to_the_millisecond(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, 10, 0, 0, 500000, tzinfo=UTC)
    lines = [record(f"{i},{i * 0.5},x{i % 2}\n", str(i), start + timedelta(milliseconds=i * 100)) for i in range(-2, 8)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines[:5]) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join(lines[5:]) + "\n")
    records = capture.read_records(tmp_path, start, start + timedelta(milliseconds=550))
    assert records.column("output_data").to_pylist() == ["0", "1", "2", "3", "4", "5"]
    fast = capture.features(records, ("endpointInput", "endpointOutput"))
    assert fast.column_names == ["_c0", "_c1", "_c2", "_c3"]
    slow = capture._record_by_record(records, ["output", "input"])
    assert [str(v) for v in fast.column("_c2").to_pylist()] == [str(float(v)) for v in slow.column("_c2").to_pylist()]
    assert fast.column("_c3").to_pylist() == slow.column("_c3").to_pylist() == ["x0", "x1", "x0", "x1", "x0", "x1"]


def test_json_and_base64_payloads_take_the_record_path(tmp_path: Path) -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    packed = base64.b64encode(b"7,8").decode()
    (tmp_path / "c.jsonl").write_text("\n".join([
        record(json.dumps({"age": 30, "job": {"title": "cook"}}), "1", moment, "JSON", "application/json"),
        record(json.dumps({"age": 40, "job": {"title": "pilot"}}), "0", moment, "JSON", "application/json"),
    ]) + "\n")
    table = capture.features(capture.read_records(tmp_path), ("endpointInput", "endpointOutput"))
    assert table.column_names == ["_c0", "age", "job.title"]
    assert table.column("job.title").to_pylist() == ["cook", "pilot"]
    assert capture.payload_values(packed, "BASE64", "text/csv") == [["7", "8"]]
    assert capture.rows_table([{"a": 1}, {"b": True}]).to_pydict() == {"a": ["1", None], "b": [None, "true"]}
    assert isinstance(table, pa.Table)


def run_analyzer(root: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(root), **environment}
    return subprocess.run([sys.executable, "-m", "sagebox.analysis.model_monitor"], env=env, capture_output=True, text=True, timeout=120)


def test_preprocessor_and_postprocessor_scripts(tmp_path: Path) -> None:
    root = tmp_path / "job"
    data = root / "processing/input/endpoint/ep/AllTraffic/2026/01/01/00"
    data.mkdir(parents=True)
    moment = datetime.now(UTC)
    (data / "x.jsonl").write_text("\n".join(record(f"{i},-1,{i * 2}", str(i), moment) for i in range(6)) + "\n")
    code = root / "processing/code"
    code.mkdir(parents=True)
    (code / "pre.py").write_text(
        "def preprocess_handler(inference_record, logger):\n"
        "    values = inference_record.endpoint_input.data.split(',')\n"
        "    if values[0] == '0':\n"
        "        return []\n"
        "    return {str(i).zfill(20): None if v == '-1' else v for i, v in enumerate(values)}\n")
    (code / "post.py").write_text(
        "import json, os\n"
        "def postprocess_handler():\n"
        "    found = json.load(open(os.environ['SAGEMAKER_BASE_DIR'] + '/processing/output/statistics.json'))\n"
        "    open(os.environ['SAGEMAKER_BASE_DIR'] + '/processing/output/post.txt', 'w').write(str(found['dataset']['item_count']))\n")
    finished = run_analyzer(
        root, dataset_format=json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}}),
        dataset_source="/opt/ml/processing/input/endpoint", output_path="/opt/ml/processing/output",
        record_preprocessor_script="/opt/ml/processing/code/pre.py", post_analytics_processor_script="/opt/ml/processing/code/post.py",
        start_time=(moment - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_time=(moment + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert finished.returncode == 0, finished.stderr
    statistics = json.loads((root / "processing/output/statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 5
    middle = statistics["features"][1]
    assert (middle["name"], middle["string_statistics"]["common"]) == ("_c1", {"num_present": 0, "num_missing": 5})
    assert (root / "processing/output/post.txt").read_text() == "5"
    assert (root / "output/message").read_text() == "Completed: Job completed successfully with no violations."


def test_a_problem_is_the_message_and_exit_code_255(tmp_path: Path) -> None:
    root = tmp_path / "job"
    finished = run_analyzer(root, dataset_format=json.dumps({"csv": {"header": True}}),
                            dataset_source="/opt/ml/processing/input/none", output_path="/opt/ml/processing/output")
    assert finished.returncode == 255
    assert (root / "output/message").read_text() == "dataset_source none does not exist: the job's input holds no data."
    finished = run_analyzer(root, dataset_source="/x", output_path="/y")
    assert finished.returncode == 255
    assert "dataset_format is required" in (root / "output/message").read_text()
