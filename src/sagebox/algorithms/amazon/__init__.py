"""What SageMaker's own (Amazon) built-in algorithms share inside a training job.

Linear Learner, K-Means, PCA, k-NN, Factorization Machines and Random Cut Forest
read the same inputs (CSV with the label first, or RecordIO-protobuf tensors), log
metrics in the same ``#quality_metric`` lines and answer the same way when a job
fails. Each algorithm's package holds only its own mathematics and settings.
"""
