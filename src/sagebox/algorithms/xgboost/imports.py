"""Importing xgboost quickly in a job or model server process."""

from __future__ import annotations

import sys
from types import ModuleType


def import_xgboost_without_sklearn() -> ModuleType:
    """Imports xgboost without its optional scikit-learn wrappers.

    ``import xgboost`` imports scikit-learn when it is installed (about 1.2 s here),
    only to offer the sklearn-style estimators, which neither training nor serving
    uses. Hiding sklearn for that one import starts every job and model server that
    much sooner; code that needs scikit-learn later still imports it normally.
    """
    if "xgboost" in sys.modules:
        return sys.modules["xgboost"]
    hidden = "sklearn" not in sys.modules
    if hidden:
        sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        import xgboost
    finally:
        if hidden:
            del sys.modules["sklearn"]
    return xgboost
