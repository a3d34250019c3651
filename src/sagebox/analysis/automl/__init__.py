"""Autopilot's own processing and inference image (``sagemaker-sklearn-automl``), as sagebox runs it.

Pure code that runs inside an AutoML job's processing jobs and the first and last
containers of a candidate's inference pipeline: the problem types and objective metrics
(`problems.py`), column type inference and the preprocessing pipeline (`columns.py`), the
data analysis and split (`splitting.py`), the fitted preprocessing (`features.py`) and its
saved form (`model_files.py`). Imports nothing from the platform.
"""
