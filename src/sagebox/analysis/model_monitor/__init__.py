"""The Model Monitor analyzer (``sagemaker-model-monitor-analyzer``), implemented in the open.

A processing job on that image runs ``python3 -m sagebox.analysis.model_monitor``: it
reads the job's Environment as Amazon's analyzer does (``dataset_format``,
``dataset_source``, ``output_path``, ``baseline_constraints``, ``baseline_statistics``,
``publish_cloudwatch_metrics``, ``record_preprocessor_script``,
``post_analytics_processor_script``, ``start_time`` / ``end_time``, ``analysis_type``,
``problem_type`` and the attribute variables) and writes ``statistics.json``,
``constraints.json`` (baselining) or ``constraint_violations.json`` (monitoring) in Model
Monitor's (Deequ's) schema to ``output_path``, CloudWatch metric lines under
``/opt/ml/output/metrics/cloudwatch`` and its outcome to ``/opt/ml/output/message``.
"""
