"""A processing script as one writes it for SageMaker's scikit-learn container.

Reads every CSV under /opt/ml/processing/input, scales the features and writes a
train/test split to /opt/ml/processing/train and /opt/ml/processing/test.
"""

import argparse
import glob
import os

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

INPUT = "/opt/ml/processing/input"
OUTPUT = "/opt/ml/processing"

parser = argparse.ArgumentParser()
parser.add_argument("--train-test-split-ratio", type=float, default=0.3)
args, _ = parser.parse_known_args()
print("Received arguments", vars(args))

files = sorted(glob.glob(os.path.join(INPUT, "*.csv")))
frame = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
print(f"Read {len(frame)} rows from {len(files)} file(s)")
labels = frame.pop("label")
features = pd.DataFrame(StandardScaler().fit_transform(frame), columns=frame.columns)
x_train, x_test, y_train, y_test = train_test_split(
    features, labels, test_size=args.train_test_split_ratio, random_state=0
)
for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
    folder = os.path.join(OUTPUT, split)
    os.makedirs(folder, exist_ok=True)
    pd.concat([y, x], axis=1).to_csv(
        os.path.join(folder, f"{split}.csv"), header=False, index=False
    )
    print(f"Wrote {len(x)} {split} rows")
