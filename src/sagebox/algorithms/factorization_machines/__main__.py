"""``python -m sagebox.algorithms.factorization_machines``: train in ``$SAGEMAKER_BASE_DIR``."""

from sagebox.algorithms.amazon.job import run_training
from sagebox.algorithms.factorization_machines.train import train

if __name__ == "__main__":
    raise SystemExit(run_training(train))
