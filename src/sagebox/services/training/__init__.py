"""Training jobs: the API, the state machine and the run of each job."""

from sagebox.services.training.service import TrainingJobService

__all__ = ["TrainingJobService"]
