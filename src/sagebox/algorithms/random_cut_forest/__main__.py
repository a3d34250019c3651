"""``python -m sagebox.algorithms.random_cut_forest``: train in ``$SAGEMAKER_BASE_DIR``."""

from sagebox.algorithms.amazon.job import run_training
from sagebox.algorithms.random_cut_forest.train import train

if __name__ == "__main__":
    raise SystemExit(run_training(train))
