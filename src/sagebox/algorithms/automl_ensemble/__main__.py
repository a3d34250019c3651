"""``python -m sagebox.algorithms.automl_ensemble``: train in the job folder at ``$SAGEMAKER_BASE_DIR``."""

from sagebox.algorithms.amazon.job import run_training
from sagebox.algorithms.automl_ensemble.train import train
from sagebox.algorithms.process_exit import exit_at_once

if __name__ == "__main__":
    exit_at_once(run_training(train))
