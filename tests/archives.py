"""tar.gz archives built in memory, as the SDK uploads sourcedir.tar.gz and model.tar.gz."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping


def tar_gz(files: Mapping[str, str | bytes]) -> bytes:
    """A gzipped tar of `files` (name -> text or bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
