"""An XGBoost training script as SageMaker's XGBoost container runs it in script mode."""

import argparse
import os

import numpy as np
import xgboost as xgb

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_round", type=int, default=10)
    parser.add_argument("--max_depth", type=int, default=3)
    args = parser.parse_args()
    folder = os.environ["SM_CHANNEL_TRAIN"]
    table = np.vstack(
        [
            np.loadtxt(os.path.join(folder, n), delimiter=",", ndmin=2)
            for n in sorted(os.listdir(folder))
        ]
    )
    train = xgb.DMatrix(table[:, 1:], label=table[:, 0])
    booster = xgb.train(
        {"max_depth": args.max_depth, "objective": "reg:squarederror"}, train, args.num_round
    )
    booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "xgboost-model"))
