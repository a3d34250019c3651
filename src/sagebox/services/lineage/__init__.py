"""SageMaker ML Lineage Tracking: artifacts, actions, contexts, associations, QueryLineage,
and the lineage SageMaker records by itself as jobs, models and endpoints are made."""
