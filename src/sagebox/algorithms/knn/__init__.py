"""SageMaker's built-in k-nearest-neighbors (k-NN) algorithm, with faiss indexes.

Training samples ``sample_size`` rows of the train channel (reservoir sampling),
optionally reduces their dimension (``sign`` random projection or ``fjlt``), and
builds a faiss index over them; inference finds each row's ``k`` nearest sampled
points and predicts their majority label (``classifier``) or mean label
(``regressor``).

``hyperparameters`` declares SageMaker's settings (pure data, cheap to import);
``sampling``, ``reduction``, ``search`` and ``model`` hold the mathematics; ``train``
is the entry point run as ``python -m sagebox.algorithms.knn`` inside a job folder.
"""
