"""SageMaker's built-in XGBoost algorithm, implemented with the xgboost library.

``hyperparameters`` and ``metrics`` declare what SageMaker declares for the
algorithm (pure data, cheap to import); ``train`` is the training entry point run
as ``python -m sagebox.algorithms.xgboost`` inside a job folder.
"""
