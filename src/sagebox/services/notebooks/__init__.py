"""SageMaker notebook instances (real JupyterLab servers) and their lifecycle configurations."""
