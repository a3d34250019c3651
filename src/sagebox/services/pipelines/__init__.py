"""SageMaker Pipelines: pipelines and their versions (pipelines.py, versions.py), executions
(executions.py) run by the engine (engine.py) step kind by step kind (job_steps.py,
model_steps.py, control_steps.py, callback_steps.py, lambda_steps.py). The definition
language is pure code: definition.py, expressions.py, conditions.py, properties.py,
validation.py, graph.py, retry.py and cache.py."""
