"""JobProcess: log capture with SageMaker's escaping, stop with SIGTERM then SIGKILL, deadlines."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sagebox.runtime.logs import LogWriter, escape_line, read_events
from sagebox.runtime.metrics import MetricExtractor
from sagebox.runtime.process import ExitCause, JobProcess


def _run(tmp_path: Path, code: str, **kwargs: object) -> tuple[JobProcess, LogWriter]:
    log = LogWriter(tmp_path / "logs" / "algo-1.jsonl")
    process = JobProcess(
        [sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ), log=log, **kwargs  # type: ignore[arg-type]
    )
    return process, log


def test_tabs_are_escaped_as_sagemaker_logs_show_them() -> None:
    assert escape_line("[3]\ttrain-rmse:0.5\tvalidation-rmse:0.6") == "[3]#011train-rmse:0.5#011validation-rmse:0.6"
    assert escape_line("bell\x07") == "bell#007"


def test_output_is_logged_and_metrics_extracted(tmp_path: Path) -> None:
    extractor = MetricExtractor([{"Name": "validation:rmse", "Regex": r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+)"}])
    code = "import sys\nfor i in range(3): print(f'[{i}]\\ttrain-rmse:1\\tvalidation-rmse:{0.5 - i/10}')\nprint('err', file=sys.stderr)"
    process, log = _run(tmp_path, code, on_line=extractor.feed)
    started = process.start()
    outcome = process.wait(started_at=started)
    log.close()
    assert (outcome.exit_code, outcome.cause) == (0, ExitCause.EXITED)
    messages = [e["message"] for e in read_events(log.path)]
    assert messages == [f"[{i}]#011train-rmse:1#011validation-rmse:{0.5 - i / 10}" for i in range(3)] + ["err"]
    (latest,) = extractor.latest()
    assert (latest.name, latest.value, latest.step) == ("validation:rmse", 0.3, 2)


def test_stop_sends_sigterm_first(tmp_path: Path) -> None:
    code = (
        "import signal, sys, time\n"
        "def bye(*_):\n    print('got SIGTERM', flush=True); sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, bye)\nprint('ready', flush=True)\ntime.sleep(60)"
    )
    process, log = _run(tmp_path, code, grace_seconds=5)
    started = process.start()
    time.sleep(0.5)
    process.stop()
    outcome = process.wait(started_at=started)
    log.close()
    assert outcome.cause is ExitCause.STOPPED and outcome.exit_code == 143
    assert [e["message"] for e in read_events(log.path)] == ["ready", "got SIGTERM"]


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"
    process, log = _run(tmp_path, code, grace_seconds=0.5)
    started = process.start()
    time.sleep(0.5)
    process.stop()
    outcome = process.wait(started_at=started)
    log.close()
    assert outcome.exit_code == -9
    assert outcome.ended_at - started < 10


def test_deadline_times_out_and_kills_the_group(tmp_path: Path) -> None:
    code = "import subprocess, sys, time\nchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\nprint(child.pid, flush=True)\ntime.sleep(60)"
    process, log = _run(tmp_path, code, grace_seconds=1)
    started = process.start()
    outcome = process.wait(deadline=time.time() + 1.0, started_at=started)
    log.close()
    assert outcome.cause is ExitCause.TIMED_OUT
    child = int(read_events(log.path)[0]["message"])
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
