"""Splits the raw data set into train, validation and test sets (label first, no header).

The abalone example's preprocessing step, on a CSV with a header whose first column is
the label.
"""

import argparse
import glob
import os

import numpy as np
import pandas as pd

BASE = "/opt/ml/processing"

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--shuffle", choices=["true", "false"], default="true")
    shuffle = parser.parse_args().shuffle == "true"
    frames = pd.concat([pd.read_csv(path) for path in sorted(glob.glob(f"{BASE}/input/*.csv"))])
    data = (frames.sample(frac=1.0, random_state=0) if shuffle else frames).to_numpy()
    train, validation, test = np.split(data, [int(0.7 * len(data)), int(0.85 * len(data))])
    for name, rows in (("train", train), ("validation", validation), ("test", test)):
        os.makedirs(f"{BASE}/{name}", exist_ok=True)
        pd.DataFrame(rows).to_csv(f"{BASE}/{name}/{name}.csv", header=False, index=False)
    print(
        f"split {len(data)} rows: {len(train)} train, {len(validation)} validation, {len(test)} test"
    )
