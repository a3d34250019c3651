"""``python3 -m sagebox.analysis.model_monitor``: the analyzer image's entry point.

Exit 0 with the outcome in /opt/ml/output/message; on a problem, the message says what
is wrong (it becomes the job's FailureReason) and the exit code is 255, as Amazon's
analyzer does.
"""

from __future__ import annotations

import logging
import sys
import time

from sagebox.analysis.model_monitor import data_quality, model_quality, outputs
from sagebox.analysis.model_monitor.environment import (
    MESSAGE_FILE,
    MODEL_QUALITY,
    AnalysisError,
    local_path,
    read_environment,
)
from sagebox.analysis.model_monitor.scripts import run_postprocessor

log = logging.getLogger("model_monitor")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    started = time.perf_counter()
    message_file = local_path(MESSAGE_FILE)
    try:
        env = read_environment()
        message_file = env.message_file
        log.info("analysis %s of %s (monitoring: %s)", env.analysis_type, env.dataset_format, env.is_monitoring)
        if env.analysis_type == MODEL_QUALITY:
            monitoring = env.is_capture or bool(env.schedule_name)
            message = model_quality.monitor(env) if monitoring else model_quality.baseline(env)
        else:
            message = data_quality.run(env)
        if env.post_analytics_processor_script is not None:
            run_postprocessor(env.post_analytics_processor_script)
    except AnalysisError as exc:
        log.error("Exception performing analysis: %s", exc)
        outputs.write_message(message_file, str(exc))
        return 255
    except Exception as exc:  # an analyzer bug: say so rather than die without a word
        log.exception("the analysis failed")
        outputs.write_message(message_file, f"The Model Monitor analysis failed unexpectedly: {exc!r}")
        return 255
    outputs.write_message(message_file, message)
    log.info("%s (%.2f s)", message, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
