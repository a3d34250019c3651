"""Reading a job's CSV channels while its process is still importing xgboost.

Importing xgboost (scipy, then the library itself) keeps one core busy for about
0.2 s at the start of every job, and parsing the CSV keeps pyarrow's threads busy
for about as long without needing the interpreter. Started before that import, the
parse runs alongside it; the training code then takes the rows from here instead of
reading the files again.

Nothing changes for the job: the channels are read with the same reader and the
same ``csv_weights``, and a channel whose reading failed raises the same error when
the training code takes it, at the point where it would have read the files itself.
Whatever cannot be read ahead this way (a job folder or hyperparameters that do not
validate, LIBSVM channels) is simply left to the training code.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sagebox.algorithms.contract import ContractError, TrainingEnvironment
from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.xgboost.data import CSV, TrainingError, data_files, data_format
from sagebox.algorithms.xgboost.hyperparameters import XGBOOST_HYPERPARAMETERS
from sagebox.formats.csv import CsvData, read_csv

CHANNELS = ("train", "validation")


class CsvPrefetch:
    """The CSV channels of one job folder, read on a background thread."""

    def __init__(self, env: TrainingEnvironment, has_weights: bool) -> None:
        self._env = env
        self._has_weights = has_weights
        self._read: dict[str, tuple[list[Path], CsvData | Exception]] = {}
        self._thread = threading.Thread(target=self._read_channels, name="csv-prefetch", daemon=True)

    @classmethod
    def start(cls, base_dir: Path) -> CsvPrefetch | None:
        """Starts reading the job folder's CSV channels; None when its configuration does
        not validate (the training code reports why)."""
        try:
            env = TrainingEnvironment.load(base_dir)
            values = XGBOOST_HYPERPARAMETERS.validate(env.hyperparameters)
        except (ContractError, HyperparameterError):
            return None
        prefetch = cls(env, has_weights=values["csv_weights"] == 1)
        prefetch._thread.start()
        return prefetch

    def take(self, channel: str, files: list[Path], has_weights: bool) -> CsvData | None:
        """The channel's rows if they were read from exactly ``files`` with ``has_weights``,
        else None; raises what reading them raised. Each channel is handed out once."""
        self._thread.join()
        files_read, outcome = self._read.pop(channel, (None, None))
        if outcome is None or files_read != files or has_weights != self._has_weights:
            return None
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _read_channels(self) -> None:
        for channel in CHANNELS:
            config = self._env.channels.get(channel)
            try:
                kind = data_format(config.content_type if config else None)
            except TrainingError:
                continue
            files = data_files(self._env, channel)
            if kind != CSV or not files:
                continue
            outcome: CsvData | Exception
            try:
                outcome = read_csv(
                    files, has_weights=self._has_weights, display_root=self._env.channel_dir(channel)
                )
            except Exception as exc:  # raised again where the training code takes the channel
                outcome = exc
            self._read[channel] = (files, outcome)
