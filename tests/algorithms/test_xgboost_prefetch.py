"""CSV channels read ahead while xgboost imports: the same rows, the same errors, or nothing."""

from __future__ import annotations

import numpy as np
import pytest

from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.xgboost.data import TrainingError, data_files, read_channel
from sagebox.algorithms.xgboost.prefetch import CsvPrefetch
from sagebox.formats.csv import read_csv
from sagebox.formats.errors import FormatError
from tests.algorithms.xgboost_jobs import JobFactory

HYPERPARAMETERS = {"num_round": "2"}
TRAIN = {"a.csv": "1,2,3\n0,4,5\n", "b.csv": "1,,7\n"}
VALIDATION = {"v.csv": "0,1,1\n"}


def started(make_job: JobFactory, **kwargs: object) -> tuple[TrainingEnvironment, CsvPrefetch]:
    job = make_job(**kwargs)
    prefetch = CsvPrefetch.start(job.base)
    assert prefetch is not None
    return TrainingEnvironment.load(job.base), prefetch


def test_channels_are_handed_out_once_as_read_csv_reads_them(make_job: JobFactory) -> None:
    env, prefetch = started(make_job, hyperparameters=HYPERPARAMETERS, channels={"train": TRAIN, "validation": VALIDATION})
    for channel in ("train", "validation"):
        files = data_files(env, channel)
        got = prefetch.take(channel, files, has_weights=False)
        expected = read_csv(files, display_root=env.channel_dir(channel))
        assert got is not None
        for actual, wanted in zip(got, expected, strict=True):
            np.testing.assert_array_equal(actual, wanted)
        assert prefetch.take(channel, files, has_weights=False) is None


def test_csv_weights_come_from_the_hyperparameters(make_job: JobFactory) -> None:
    env, prefetch = started(make_job, hyperparameters={**HYPERPARAMETERS, "csv_weights": "1"}, channels={"train": {"w.csv": "1,0.5,3\n"}})
    files = data_files(env, "train")
    data = prefetch.take("train", files, has_weights=True)
    assert data is not None and data.weights is not None
    assert data.weights.tolist() == [0.5]


def test_other_files_or_weights_are_not_taken_from_it(make_job: JobFactory) -> None:
    env, prefetch = started(make_job, hyperparameters=HYPERPARAMETERS, channels={"train": TRAIN})
    files = data_files(env, "train")
    assert prefetch.take("train", files[:1], has_weights=False) is None
    again = CsvPrefetch.start(env.base_dir)
    assert again is not None
    assert again.take("train", files, has_weights=True) is None


def test_a_reading_error_is_raised_where_the_channel_is_taken(make_job: JobFactory) -> None:
    env, prefetch = started(make_job, hyperparameters=HYPERPARAMETERS, channels={"train": {"bad.csv": "1,2\nx,3\n"}})
    files = data_files(env, "train")
    with pytest.raises(FormatError) as raised:
        prefetch.take("train", files, has_weights=False)
    with pytest.raises(TrainingError) as without_prefetch:
        read_channel(env, "train", csv_weights=False)
    assert f"channel 'train': {raised.value}" == str(without_prefetch.value)


def test_libsvm_channels_are_left_to_the_training_code(make_job: JobFactory) -> None:
    env, prefetch = started(make_job, hyperparameters=HYPERPARAMETERS, channels={"train": {"t.libsvm": "1 1:2\n"}}, content_type="text/libsvm")
    assert prefetch.take("train", data_files(env, "train"), has_weights=False) is None


def test_nothing_is_read_ahead_when_the_hyperparameters_do_not_validate(make_job: JobFactory) -> None:
    job = make_job(hyperparameters={"num_round": "-1"}, channels={"train": TRAIN})
    assert CsvPrefetch.start(job.base) is None
