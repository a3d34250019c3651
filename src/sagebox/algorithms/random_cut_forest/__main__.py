"""``python -m sagebox.algorithms.random_cut_forest``: train in ``$SAGEMAKER_BASE_DIR``."""

from sagebox.algorithms.amazon.job import run_training
from sagebox.algorithms.process_exit import exit_at_once
from sagebox.algorithms.random_cut_forest.train import train

if __name__ == "__main__":
    exit_at_once(run_training(train))
