"""``python -m sagebox.algorithms.xgboost``: train in the job folder at ``$SAGEMAKER_BASE_DIR``."""

from sagebox.algorithms.process_exit import exit_at_once
from sagebox.algorithms.xgboost.imports import import_xgboost_without_sklearn

if __name__ == "__main__":
    import_xgboost_without_sklearn()
    from sagebox.algorithms.xgboost.train import main

    exit_at_once(main())
