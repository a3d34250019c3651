"""The one exception a Clarify analysis raises for input it cannot use."""

from __future__ import annotations


class ClarifyError(ValueError):
    """The configuration, the data or the model's answers cannot be analysed; the message says
    which member or column, what was given and what is allowed. The job writes it to
    /opt/ml/output/message, which becomes the processing job's FailureReason."""
