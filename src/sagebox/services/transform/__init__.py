"""Batch transform: CreateTransformJob and friends, run over local model servers."""

from sagebox.services.transform.service import TransformJobService

__all__ = ["TransformJobService"]
