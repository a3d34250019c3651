"""Processing jobs: the API, the state machine and the run of each job as a local process."""

from sagebox.services.processing.service import ProcessingJobService

__all__ = ["ProcessingJobService"]
