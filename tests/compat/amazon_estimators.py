"""The SDK's Amazon estimators with record_set, unchanged: six fits, one deploy and predict.

Run with the environment `sagebox env` prints; prints one line per finished step.
"""

import sagemaker
from sagemaker import (
    KNN,
    PCA,
    FactorizationMachines,
    KMeans,
    LinearLearner,
    RandomCutForest,
)
from sklearn.datasets import load_breast_cancer

session = sagemaker.Session()
common = {
    "role": "arn:aws:iam::123456789012:role/SageMakerRole",
    "instance_count": 1,
    "instance_type": "ml.m5.large",
    "sagemaker_session": session,
}
data = load_breast_cancer()
x = ((data.data - data.data.mean(axis=0)) / data.data.std(axis=0)).astype("float32")
y = data.target.astype("float32")

estimators = {
    "linear-learner": (LinearLearner(predictor_type="binary_classifier", **common), True),
    "kmeans": (KMeans(k=2, **common), False),
    "pca": (PCA(num_components=3, **common), False),
    "knn": (KNN(k=5, sample_size=400, predictor_type="classifier", **common), True),
    "factorization-machines": (
        FactorizationMachines(num_factors=4, predictor_type="binary_classifier", epochs=5, **common),
        True,
    ),
    "randomcutforest": (RandomCutForest(num_trees=50, num_samples_per_tree=128, **common), False),
}
for name, (estimator, supervised) in estimators.items():
    records = estimator.record_set(x, labels=y if supervised else None)
    estimator.fit(records, logs=False)
    print("trained", name, estimator.model_data)

kmeans = estimators["kmeans"][0]
predictor = kmeans.deploy(initial_instance_count=1, instance_type="ml.m5.large")
try:
    answers = predictor.predict(x[:4])
finally:
    predictor.delete_endpoint()
for record in answers:
    print("closest_cluster", record.label["closest_cluster"].float32_tensor.values[0])
