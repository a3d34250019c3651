"""A processing script: reads a CSV input, writes a scaled copy and a report.

Paths come as arguments (rewritten by sagebox); the config files and one input are
also read through hard-coded /opt/ml paths, which sagebox redirects.
"""

import argparse
import csv
import json
import os
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--train-output", required=True)
parser.add_argument("--report-output", required=True)
args = parser.parse_args()

scale = float(os.environ["SCALE"])
with open(os.path.join(args.input, "data.csv"), newline="") as handle:
    header, *rows = list(csv.reader(handle))

train = Path(args.train_output)
with (train / "part-0.csv").open("w", newline="") as handle:
    writer = csv.writer(handle)
    for label, *features in rows:
        writer.writerow([label, *(f"{float(v) * scale:g}" for v in features)])

with open("/opt/ml/config/processingjobconfig.json") as handle:
    job_config = json.load(handle)
with open("/opt/ml/config/resourceconfig.json") as handle:
    resource_config = json.load(handle)
hard_coded = Path("/opt/ml/processing/input/data/data.csv").read_text()

report = {
    "rows": len(rows),
    "header": header,
    "arguments": sys.argv[1:],
    "cwd": os.getcwd(),
    "executable": sys.executable,
    "scale": os.environ["SCALE"],
    "job_name": job_config["ProcessingJobName"],
    "job_arn": job_config["ProcessingJobArn"],
    "input_paths": [i["S3Input"]["LocalPath"] for i in job_config["ProcessingInputs"]],
    "current_host": resource_config["current_host"],
    "hosts": resource_config["hosts"],
    "hard_coded_read_matches": hard_coded.splitlines()[1:] == [",".join(r) for r in rows],
    "listing": sorted(os.listdir("/opt/ml/processing/input/data")),
}
Path(args.report_output, "nested").mkdir(parents=True, exist_ok=True)
Path(args.report_output, "report.json").write_text(json.dumps(report))
Path("/opt/ml/processing/output/report/nested/hard-coded.txt").write_text("written through /opt/ml\n")
os.makedirs("/opt/ml/output", exist_ok=True)
with open("/opt/ml/output/message", "w") as handle:
    handle.write(f"prepared {len(rows)} rows")
print(f"prepared {len(rows)} rows with scale {scale}")
print("done")
