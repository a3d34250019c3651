"""The model server run inside each endpoint instance (``python -m sagebox.serving``).

It speaks SageMaker's inference container contract (``/ping``, ``/invocations``,
``/execution-parameters``) for one model folder, through a handler per kind of model
(``handlers``). Like ``algorithms`` and ``formats``, it imports nothing from the platform.
"""
