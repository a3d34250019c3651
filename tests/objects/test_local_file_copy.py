"""Copying a stored object's file into place: in the kernel, or in chunks when it cannot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sagebox.objects import local_files
from sagebox.objects.local_files import copy_file

DATA = bytes(range(256)) * 9000


def copied(tmp_path: Path, skip: int = 0) -> bytes:
    source_path, target_path = tmp_path / "source", tmp_path / "target"
    source_path.write_bytes(DATA)
    with open(source_path, "rb") as source, open(target_path, "wb") as out:
        out.write(b"head:")
        source.seek(skip)
        copy_file(source, out)
        out.write(b":tail")
        assert source.tell() == len(DATA)
    return target_path.read_bytes()


def test_copies_the_rest_of_the_source_after_what_was_written(tmp_path: Path) -> None:
    assert copied(tmp_path, skip=1000) == b"head:" + DATA[1000:] + b":tail"


def test_falls_back_to_chunks_where_the_kernel_cannot_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_sendfile = os.sendfile

    def sendfile_once(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        calls.append(offset)
        if len(calls) > 1:
            raise OSError("not between these files")
        return real_sendfile(out_fd, in_fd, offset, min(count, 5000))

    monkeypatch.setattr(local_files.os, "sendfile", sendfile_once)
    assert copied(tmp_path) == b"head:" + DATA + b":tail"
    assert calls == [0, 5000]
