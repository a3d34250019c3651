"""Saving and loading a model as named numpy arrays plus JSON settings, atomically.

A model is one ``<name>.npz`` file in the model folder: the arrays, plus the
settings as JSON text under the reserved key ``__settings__``. It is written to a
hidden temporary file and renamed, so a reader never sees half a model, and it is
loaded with ``allow_pickle=False``, so loading never runs code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

SETTINGS_KEY = "__settings__"


class ModelFileError(ValueError):
    """The model file is missing or is not a model this code wrote."""


def model_path(model_dir: Path, name: str) -> Path:
    return Path(model_dir) / f"{name}.npz"


def save_model(
    model_dir: Path, name: str, arrays: Mapping[str, np.ndarray], settings: Mapping[str, Any]
) -> Path:
    """Write ``<model_dir>/<name>.npz`` atomically; returns its path."""
    if SETTINGS_KEY in arrays:
        raise ValueError(f"'{SETTINGS_KEY}' is reserved for the settings")
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_path(model_dir, name)
    temporary = model_dir / f".{name}.{os.getpid()}.partial.npz"
    payload = {key: np.asarray(value) for key, value in arrays.items()}
    payload[SETTINGS_KEY] = np.asarray(json.dumps(dict(settings), sort_keys=True))
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def load_model(model_dir: Path, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, settings) of ``<model_dir>/<name>.npz``; raises ``ModelFileError``."""
    path = model_path(Path(model_dir), name)
    if not path.is_file():
        present = sorted(p.name for p in Path(model_dir).glob("*") if not p.name.startswith("."))
        raise ModelFileError(
            f"no '{path.name}' in the model folder (found {', '.join(present) or 'nothing'})"
        )
    try:
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"'{path.name}' is not a readable model file: {exc}") from None
    raw = arrays.pop(SETTINGS_KEY, None)
    if raw is None:
        raise ModelFileError(f"'{path.name}' has no settings; it was not written by sagebox")
    try:
        settings = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"'{path.name}' has unreadable settings: {exc}") from None
    return arrays, settings
