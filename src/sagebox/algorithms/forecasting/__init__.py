"""Autopilot's time-series candidates as a training algorithm (see `train.py`)."""
