"""A PyTorch training script as SageMaker's PyTorch container runs it: a linear model on CSV rows."""

import argparse
import os

import numpy as np
import torch

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args()
    folder = os.environ["SM_CHANNEL_TRAIN"]
    table = np.vstack(
        [
            np.loadtxt(os.path.join(folder, n), delimiter=",", ndmin=2)
            for n in sorted(os.listdir(folder))
        ]
    )
    x = torch.tensor(table[:, 1:], dtype=torch.float32)
    y = torch.tensor(table[:, :1], dtype=torch.float32)
    torch.manual_seed(0)
    model = torch.nn.Linear(x.shape[1], 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for _ in range(args.epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    print(f"train-mse={loss.item():.4f}")
    torch.save(model.state_dict(), os.path.join(os.environ["SM_MODEL_DIR"], "model.pth"))
