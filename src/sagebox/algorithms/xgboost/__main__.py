"""``python -m sagebox.algorithms.xgboost``: train in the job folder at ``$SAGEMAKER_BASE_DIR``."""

import sys

from sagebox.algorithms.xgboost.train import main

if __name__ == "__main__":
    sys.exit(main())
