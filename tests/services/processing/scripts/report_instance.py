"""Writes which instance this is and which input files it received, into its own output file."""

import json
import os
import pathlib

config = json.loads(pathlib.Path("/opt/ml/config/resourceconfig.json").read_text())
files = sorted(os.listdir("/opt/ml/processing/parts"))
report = {"host": config["current_host"], "hosts": config["hosts"], "files": files}
pathlib.Path("/opt/ml/processing/output", config["current_host"] + ".json").write_text(json.dumps(report))
print("reported", report, flush=True)
