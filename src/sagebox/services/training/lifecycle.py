"""The training job's statuses, on the shared job state machine.

TrainingJobStatus: InProgress -> Completed | Failed | Stopping -> Stopped.
SecondaryStatus: Starting -> Downloading -> Training -> Uploading -> Completed, or
Failed / Stopped / MaxRuntimeExceeded, each entry kept in SecondaryStatusTransitions.
An ended job reports how long it trained (TrainingTimeInSeconds, BillableTimeInSeconds).
"""

from __future__ import annotations

from typing import Any

from sagebox.services.families import TRAINING_JOB
from sagebox.services.job_states import JobStates, SecondaryStatuses

MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped because it exceeded the maximum allowed runtime",
}


def _training_time(document: dict[str, Any], now: float) -> None:
    started = document.get("TrainingStartTime")
    if started is not None:
        seconds = max(0, round(now - started))
        document["TrainingTimeInSeconds"] = seconds
        document["BillableTimeInSeconds"] = seconds


STATES = JobStates(TRAINING_JOB, secondary=SecondaryStatuses(MESSAGES), on_end=_training_time)
