"""SageMaker's Random Cut Forest: unsupervised anomaly detection.

Each of ``num_trees`` trees is grown on its own random sample of
``num_samples_per_tree`` training rows (drawn while the data streams by). A tree
cuts its sample recursively: the cut dimension is drawn with probability
proportional to the sample's range along it, the cut value uniformly within that
range, until every point sits alone (or with its duplicates) in a leaf. A row's
anomaly score is the forest's average of the inverse depth it would take in each
tree, scaled by ``log2(1 + sample size)``: rows that are cut off early score high.

Modules: ``hyperparameters`` (SageMaker's names and limits), ``sampling`` (the
per-tree samples), ``forest`` (growing the trees), ``scoring`` (scores for many
rows at once), ``evaluation`` (the labelled test channel), ``train`` (the job).
"""
