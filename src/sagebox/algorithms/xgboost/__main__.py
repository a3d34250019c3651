"""``python -m sagebox.algorithms.xgboost``: train in the job folder at ``$SAGEMAKER_BASE_DIR``."""

import sys


def _import_xgboost_without_sklearn() -> None:
    """Imports xgboost without its optional scikit-learn wrappers.

    ``import xgboost`` imports scikit-learn when it is installed (about 1.2 s here),
    only to offer the sklearn-style estimators, which training never uses. Hiding
    sklearn for that one import starts every job that much sooner; the custom
    metrics still import ``sklearn.metrics`` normally afterwards.
    """
    hidden = "sklearn" not in sys.modules
    if hidden:
        sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        import xgboost  # noqa: F401
    finally:
        if hidden:
            del sys.modules["sklearn"]


if __name__ == "__main__":
    _import_xgboost_without_sklearn()
    from sagebox.algorithms.xgboost.train import main

    sys.exit(main())
