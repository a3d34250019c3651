"""Errors raised by the data codecs."""

from __future__ import annotations


class FormatError(ValueError):
    """A data file does not follow the format its content type promises.

    The message names the file and, where one applies, the 1-based line (and
    column) and what is wrong, e.g. ``train.csv line 37: expected 31 columns,
    found 30``.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        self.column = column
        where = file
        if line is not None:
            where += f" line {line}"
            if column is not None:
                where += f", column {column}"
        super().__init__(f"{where}: {problem}")
