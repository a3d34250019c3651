"""model.tar.gz packing and safe unpacking."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from sagebox.objects import UnsafeArchiveError, pack_folder, unpack_archive


def test_pack_and_unpack_round_trip(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "nested").mkdir(parents=True)
    (model / "model.json").write_text('{"trees": 3}')
    (model / "nested" / "weights.bin").write_bytes(b"\x00\x01")
    archive = pack_folder(model, tmp_path / "out" / "model.tar.gz")
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["model.json", "nested", "nested/weights.bin"]
    written = unpack_archive(archive, tmp_path / "unpacked")
    assert sorted(path.relative_to(tmp_path / "unpacked").as_posix() for path in written) == [
        "model.json",
        "nested/weights.bin",
    ]
    assert (tmp_path / "unpacked" / "nested" / "weights.bin").read_bytes() == b"\x00\x01"


def test_pack_an_empty_or_missing_folder(tmp_path: Path) -> None:
    archive = pack_folder(tmp_path / "nothing", tmp_path / "empty.tar.gz")
    with tarfile.open(archive) as tar:
        assert tar.getnames() == []


def _archive(path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


@pytest.mark.parametrize(
    "member",
    [
        tarfile.TarInfo("../escape.txt"),
        tarfile.TarInfo("/absolute.txt"),
        tarfile.TarInfo("a/../../escape.txt"),
    ],
)
def test_members_outside_the_destination_are_refused(
    tmp_path: Path, member: tarfile.TarInfo
) -> None:
    archive = _archive(tmp_path / "bad.tar.gz", member)
    with pytest.raises(UnsafeArchiveError):
        unpack_archive(archive, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


def test_links_and_devices_are_refused(tmp_path: Path) -> None:
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(UnsafeArchiveError):
        unpack_archive(_archive(tmp_path / "link.tar.gz", link), tmp_path / "dest")
    device = tarfile.TarInfo("device")
    device.type = tarfile.CHRTYPE
    with pytest.raises(UnsafeArchiveError):
        unpack_archive(_archive(tmp_path / "dev.tar.gz", device), tmp_path / "dest")
