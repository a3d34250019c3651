"""Hyperparameter tuning jobs: trials are real training jobs chosen by tuning strategies."""

from sagebox.services.tuning.service import TuningJobService

__all__ = ["TuningJobService"]
