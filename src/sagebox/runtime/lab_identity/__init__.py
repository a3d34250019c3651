"""Code the JupyterLab process of a notebook instance imports (this folder is put on its
PYTHONPATH); it needs only jupyter_server, so it runs in any interpreter with JupyterLab."""
