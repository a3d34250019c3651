"""Put on a job's PYTHONPATH: its sitecustomize maps /opt/ml to the job folder.

Nothing here is imported by sagebox itself; the job's Python interpreter imports
`sitecustomize` at start-up.
"""
