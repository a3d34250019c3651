"""Autopilot: AutoML jobs (CreateAutoMLJob / V2), built from processing, tuning and training jobs."""

from sagebox.services.automl.service import AutoMLJobService

__all__ = ["AutoMLJobService"]
