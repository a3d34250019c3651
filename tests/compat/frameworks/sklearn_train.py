"""A scikit-learn training script as SageMaker's scikit-learn container runs it."""

import argparse
import os

import joblib
import numpy as np
from sklearn.linear_model import Ridge


def load(channel: str) -> tuple[np.ndarray, np.ndarray]:
    folder = os.environ[f"SM_CHANNEL_{channel.upper()}"]
    table = np.vstack(
        [
            np.loadtxt(os.path.join(folder, name), delimiter=",", ndmin=2)
            for name in sorted(os.listdir(folder))
        ]
    )
    return table[:, 1:], table[:, 0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    args = parser.parse_args()
    features, target = load("train")
    model = Ridge(alpha=args.alpha).fit(features, target)
    if "SM_CHANNEL_VALIDATION" in os.environ:
        features, target = load("validation")
        rmse = float(np.sqrt(np.mean((model.predict(features) - target) ** 2)))
        print(f"validation-rmse={rmse:.6f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
