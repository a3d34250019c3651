"""sagebox: the Amazon SageMaker platform on your own machine."""

__version__ = "0.1.0"
