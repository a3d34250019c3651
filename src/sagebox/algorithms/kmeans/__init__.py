"""SageMaker's K-Means: web-scale mini-batch k-means with a final local Lloyd stage.

``web_scale`` and ``clustering`` hold the mathematics (plain numpy), ``train`` runs
it in a job folder, ``hyperparameters`` declares SageMaker's settings and ``spec``
registers the algorithm (image repository ``kmeans``).
"""
