"""SageMaker's Linear Learner: linear regression and binary / multiclass classification.

``num_models`` linear models are trained together by mini-batch SGD, Adam or
RMSProp in one vectorised pass, each with its own learning rate and regularisation;
the best on the validation data (else the training data) is kept, with its decision
threshold tuned for ``binary_classifier_model_selection_criteria``. The mathematics
(``losses``, ``optimizers``, ``scaler``, ``grid``, ``metrics``, ``trainer``) is pure
numpy and scipy; ``train`` connects it to the job folder.
"""
