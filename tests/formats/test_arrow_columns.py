"""Arrow columns to numpy without pandas: values, nulls as NaN, slices, chunks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from sagebox.formats.arrow import copy_column, float64_array, float_values


@pytest.mark.parametrize("arrow_type", [pa.float32(), pa.float64()])
def test_float_values_with_nulls_and_offsets(arrow_type: pa.DataType) -> None:
    values = [1.5, None, -2.0, None, 3.25, 4.0, None, 5.0, 6.5, None, 7.0]
    array = pa.array(values, type=arrow_type)
    expected = np.array([np.nan if v is None else v for v in values], dtype=arrow_type.to_pandas_dtype())
    for start in range(len(values)):
        for stop in range(start, len(values) + 1):
            got = float_values(array.slice(start, stop - start))
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected[start:stop])


def test_float_values_without_nulls_is_a_view() -> None:
    array = pa.array(np.arange(10, dtype=np.float32))
    got = float_values(array.slice(3, 4))
    np.testing.assert_array_equal(got, [3, 4, 5, 6])
    assert not got.flags.owndata


def test_other_types_go_through_to_numpy() -> None:
    np.testing.assert_array_equal(float_values(pa.array([1, 2, 3])), [1, 2, 3])


def test_copy_column_fills_a_strided_target_from_chunks() -> None:
    column = pa.chunked_array([pa.array([1.0, None], pa.float32()), pa.array([3.0], pa.float32())])
    matrix = np.zeros((3, 2), dtype=np.float32)
    copy_column(column, matrix[:, 1])
    np.testing.assert_array_equal(matrix, [[0, 1], [0, np.nan], [0, 3]])


def test_float64_array_round_trips() -> None:
    scores = np.array([0.25, -1.0, 3.5], dtype=np.float32)
    array = float64_array(scores)
    assert array.type == pa.float64()
    assert array.to_pylist() == [0.25, -1.0, 3.5]


def test_reading_csv_does_not_import_pandas(tmp_path: Path) -> None:
    """pandas costs a job or model server about 0.2 s to import, for nothing."""
    data = tmp_path / "train.csv"
    data.write_text("1,2,,4\n0,5,6,7\n")
    script = textwrap.dedent(
        f"""
        import sys
        from sagebox.formats.csv import read_csv
        from sagebox.serving.text_payloads import decode_csv
        features, labels, _ = read_csv({str(data)!r})
        assert features.shape == (2, 3) and labels.tolist() == [1.0, 0.0]
        rows = decode_csv(b"1,2,3\\n" * 100_000, 3)
        assert rows.shape == (100_000, 3)
        print("pandas" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
