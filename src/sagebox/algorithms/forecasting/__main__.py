"""``python -m sagebox.algorithms.forecasting``: train in the job folder at ``$SAGEMAKER_BASE_DIR``."""

import os

# The statistical fits are small and many: one BLAS thread each beats oversubscribed cores.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from sagebox.algorithms.amazon.job import run_training  # noqa: E402
from sagebox.algorithms.forecasting.train import train  # noqa: E402
from sagebox.algorithms.process_exit import exit_at_once  # noqa: E402

if __name__ == "__main__":
    exit_at_once(run_training(train))
