"""Serving handlers for the scikit-learn model: JSON in, JSON out, predictions rounded."""

import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"this model reads application/json, not {content_type}")
    return np.asarray(json.loads(body)["instances"], dtype=float)


def predict_fn(data, model):
    return model.predict(data)


def output_fn(prediction, accept):
    return json.dumps({"predictions": [round(float(v), 3) for v in prediction]}), "application/json"
