"""The client error of an Amazon algorithm's training job."""

from __future__ import annotations


class TrainingError(Exception):
    """The job cannot train as configured or on this data; the message says why.

    It ends the job as ``ClientError: <message>`` in ``output/failure``.
    """
