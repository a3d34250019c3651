"""``python -m sagebox.algorithms.pca``: train in the job folder at ``$SAGEMAKER_BASE_DIR``."""

from sagebox.algorithms.amazon.job import run_training
from sagebox.algorithms.pca.train import train

if __name__ == "__main__":
    raise SystemExit(run_training(train))
