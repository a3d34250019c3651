"""Hyperparameter tuning as pure objects: search spaces, strategies and stopping rules.

Nothing here does I/O or knows about training jobs: the tuning service turns each
``Suggestion`` into a training job, feeds back intermediate and final objectives,
and acts on the ``Decision`` and completion reasons it gets back.
"""

from sagebox.tuning.base import Decision, Strategy, Suggestion
from sagebox.tuning.completion import CompletionReason, CompletionTracker
from sagebox.tuning.early_stopping import MedianStoppingRule
from sagebox.tuning.errors import TrialError, TuningConfigError
from sagebox.tuning.hyperband import HyperbandConfig, HyperbandStrategy, infer_max_resource
from sagebox.tuning.space import CategoricalRange, ContinuousRange, IntegerRange, SearchSpace
from sagebox.tuning.strategies import GridStrategy, RandomStrategy, make_strategy

__all__ = [
    "CategoricalRange",
    "CompletionReason",
    "CompletionTracker",
    "ContinuousRange",
    "Decision",
    "GridStrategy",
    "HyperbandConfig",
    "HyperbandStrategy",
    "IntegerRange",
    "MedianStoppingRule",
    "RandomStrategy",
    "SearchSpace",
    "Strategy",
    "Suggestion",
    "TrialError",
    "TuningConfigError",
    "infer_max_resource",
    "make_strategy",
]
