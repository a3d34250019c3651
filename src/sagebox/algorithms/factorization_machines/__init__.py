"""SageMaker's Factorization Machines: a linear model plus factorised pairwise interactions.

``y = w0 + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j``, with ``num_factors``-long
vectors ``v_i``, trained with mini-batch Adam on sparse rows (squared loss for
``regressor``, logistic loss for ``binary_classifier``).

Modules: ``hyperparameters`` (SageMaker's names and defaults), ``model`` (the
model and its O(k·nnz) predictions and gradients), ``optimizer`` (per-group lazy
Adam), ``fitting`` (the epoch loop), ``metrics`` (SageMaker's quality metrics),
``train`` (the job).
"""
