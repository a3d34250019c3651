"""The training job's statuses, on the shared job state machine.

TrainingJobStatus: InProgress -> Completed | Failed | Stopping -> Stopped.
SecondaryStatus: Starting -> Downloading -> Training -> Uploading -> Completed, or
Failed / Stopped / MaxRuntimeExceeded, each entry kept in SecondaryStatusTransitions.
An ended job reports how long it trained (TrainingTimeInSeconds, BillableTimeInSeconds).

A managed spot training job whose instances are lost enters Interrupted, then Starting,
Downloading and Training again. Its TrainingTimeInSeconds is, as for every job, from
TrainingStartTime to its end; its BillableTimeInSeconds is only the time its hosts ran:
the sum over attempts of each one's time from the hosts' start (Training) to their loss,
or for the last attempt to the job's end (Uploading included); staging data and waiting
for room after an interruption are not billed.
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
    "Interrupted": "Job interrupted: the instances of the managed spot training job were lost",
    "MaxWaitTimeExceeded": "Training job stopped because it exceeded the maximum allowed wait time",
}


def _training_time(document: dict[str, Any], now: float) -> None:
    started = document.get("TrainingStartTime")
    if started is not None:
        seconds = max(0, round(now - started))
        document["TrainingTimeInSeconds"] = seconds
        spot = document.get("_sagebox", {}).get(SPOT)
        document["BillableTimeInSeconds"] = seconds if spot is None else min(seconds, round(run_seconds(spot, now)))


# A managed spot training job's accounting in its record's bookkeeping: the seconds its
# hosts ran in attempts that ended ("ran") and when the running attempt's hosts started.
SPOT = "spot"


def run_seconds(spot: dict[str, Any], now: float) -> float:
    """How long the job's hosts have run, over every attempt, at `now`."""
    since = spot.get("running_since")
    return float(spot.get("ran", 0.0)) + (max(0.0, now - since) if since is not None else 0.0)


def hosts_started(spot: dict[str, Any], now: float) -> None:
    spot["running_since"] = now


def hosts_ended(spot: dict[str, Any], now: float) -> None:
    spot["ran"] = run_seconds(spot, now)
    spot["running_since"] = None


STATES = JobStates(TRAINING_JOB, secondary=SecondaryStatuses(MESSAGES), on_end=_training_time)
