"""Serving the linear model: model_fn rebuilds it; the container's defaults handle JSON."""

import os

import torch


def model_fn(model_dir):
    state = torch.load(os.path.join(model_dir, "model.pth"))
    model = torch.nn.Linear(state["weight"].shape[1], 1)
    model.load_state_dict(state)
    return model.eval()


def predict_fn(data, model):
    with torch.no_grad():
        return model(torch.as_tensor(data, dtype=torch.float32)).numpy()
