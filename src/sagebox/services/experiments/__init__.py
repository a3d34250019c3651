"""SageMaker Experiments: experiments, trials, trial components, their metrics, and the
trial components SageMaker keeps for jobs."""

from sagebox.services.experiments.experiments import ExperimentService
from sagebox.services.experiments.trial_components import TrialComponentService
from sagebox.services.experiments.trials import TrialService

__all__ = ["ExperimentService", "TrialComponentService", "TrialService"]
