"""Autopilot's ENSEMBLING mode training jobs: bagged base models and the weighted ensemble."""
