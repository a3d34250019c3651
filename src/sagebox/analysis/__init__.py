"""Amazon's own processing images, implemented in the open: the analyses a processing job
on a SageMaker-provided image runs (Clarify, the Model Monitor analyzer).

Like `algorithms/`, this is pure code that runs inside the job's process: it reads the
configuration files and data the SDK writes under /opt/ml/processing and writes its
results there; it imports nothing from the platform. `services/processing/images.py`
says which image URI runs which module.
"""
