"""``python -m sagebox.algorithms.xgboost``: train in the job folder at ``$SAGEMAKER_BASE_DIR``.

The CSV channels start being read before xgboost is imported, so that both go on at once.
"""

from sagebox.algorithms.contract import default_base_dir
from sagebox.algorithms.process_exit import exit_at_once
from sagebox.algorithms.xgboost.imports import import_xgboost_without_sklearn
from sagebox.algorithms.xgboost.prefetch import CsvPrefetch

if __name__ == "__main__":
    prefetch = CsvPrefetch.start(default_base_dir())
    import_xgboost_without_sklearn()
    from sagebox.algorithms.xgboost.train import main

    exit_at_once(main(prefetch))
