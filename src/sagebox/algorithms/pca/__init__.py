"""SageMaker's PCA: principal components of data streamed in mini-batches.

``decomposition`` holds the mathematics (numpy/scipy), ``train`` runs it in a job
folder, ``hyperparameters`` declares SageMaker's settings and ``spec`` registers
the algorithm (image repository ``pca``).
"""
