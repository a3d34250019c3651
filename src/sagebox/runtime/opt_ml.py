"""The container's /opt/ml on this machine: a job's folder stands for it.

A processing or training job runs as a local process, not in a container, so the
/opt/ml paths its command and its code name must lead to its own folder:

- command lines: a leading `python`/`python3`/`pythonX.Y` becomes the server's
  interpreter, and /opt/ml paths in the arguments become the folder's (`rewrite_argument`
  for whole arguments, `rewrite_text` for paths anywhere in an argument, such as a
  ``bash -c`` command);
- Python code: `BOOTSTRAP_DIR` goes first on PYTHONPATH; its sitecustomize redirects
  file access below /opt/ml to ``$SAGEBOX_OPT_ML``;
- shell scripts a job receives as data and runs: `rewrite_shell_scripts` rewrites their
  /opt/ml paths like a command line's.
"""

from __future__ import annotations

import os
import posixpath
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

OPT_ML = "/opt/ml"
BOOTSTRAP_DIR = Path(__file__).resolve().parent / "bootstrap"
REDIRECT_ROOT_VARIABLE = "SAGEBOX_OPT_ML"
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh"})
SHELL_SUFFIXES = (".sh", ".bash")
MAX_SCRIPT_BYTES = 1 << 20

_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
# /opt/ml as a whole path component, not inside a longer path (/x/opt/ml) or name (/opt/mlx).
_CONTAINER_PATH = re.compile(r"(?<![\w./-])/opt/ml(?![\w.-])")


def is_container_path(text: str) -> bool:
    """True for /opt/ml itself and any path below it."""
    return text == OPT_ML or text.startswith(OPT_ML + "/")


def local_path(root: Path, path: str) -> Path:
    """The job folder's counterpart of a container path (/opt/ml or below)."""
    if not is_container_path(path):
        raise ValueError(f"{path!r} is not a path under {OPT_ML}")
    relative = path[len(OPT_ML) :].strip("/")
    return root / relative if relative else root


def is_python(program: str) -> bool:
    """True for `python`, `python3`, `python3.11`, bare or as a path."""
    return _PYTHON.fullmatch(posixpath.basename(program)) is not None


def rewrite_argument(argument: str, root: Path) -> str:
    """A whole-path argument or the value of `--name=/opt/ml/...` moved into `root`."""
    if is_container_path(argument):
        return str(local_path(root, argument))
    option, separator, value = argument.partition("=")
    if separator and option.startswith("-") and is_container_path(value):
        return f"{option}={local_path(root, value)}"
    return argument


def rewrite_text(text: str, root: Path) -> str:
    """`text` with every /opt/ml path in it moved into `root`."""
    replacement = str(root).rstrip("/")
    return _CONTAINER_PATH.sub(lambda _match: replacement, text)


def interpreter_first(path: str | None) -> str:
    """A PATH on which `python3` (and pip) are the server's own."""
    directory = str(Path(sys.executable).parent)
    return os.pathsep.join([directory, *([path] if path else [])])


def redirect_first(python_path: str | None) -> str:
    """A PYTHONPATH with the /opt/ml redirect first, whoever set the rest."""
    rest = [p for p in (python_path or "").split(os.pathsep) if p and p != str(BOOTSTRAP_DIR)]
    return os.pathsep.join([str(BOOTSTRAP_DIR), *rest])


def redirect_environment(env: Mapping[str, str], root: Path) -> dict[str, str]:
    """`env` for processes that see `root` as /opt/ml: the redirect on, the server's Python first."""
    redirected = dict(env)
    redirected[REDIRECT_ROOT_VARIABLE] = str(root)
    redirected["PATH"] = interpreter_first(env.get("PATH", os.defpath))
    redirected["PYTHONPATH"] = redirect_first(env.get("PYTHONPATH"))
    return redirected


def is_shell_script(path: Path, head: bytes) -> bool:
    """A `.sh`/`.bash` file, or one whose `#!` line names a shell (directly or through env)."""
    if path.name.endswith(SHELL_SUFFIXES):
        return True
    if not head.startswith(b"#!"):
        return False
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if words and posixpath.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    return bool(words) and posixpath.basename(words[0]) in SHELLS


def _shell_scripts(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_SCRIPT_BYTES:
            continue
        with path.open("rb") as handle:
            head = handle.read(256)
        if is_shell_script(path, head):
            yield path


def shell_scripts(folder: Path) -> Iterator[Path]:
    """The shell scripts below `folder` (by suffix or #! line) small enough to rewrite."""
    return _shell_scripts(folder)


def rewrite_shell_scripts(folder: Path, root: Path) -> list[Path]:
    """Rewrites the /opt/ml paths in the shell scripts below `folder`; returns those changed."""
    changed = []
    for path in _shell_scripts(folder):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rewritten = rewrite_text(text, root)
        if rewritten != text:
            temporary = path.with_name(f".{path.name}.sagebox-tmp")
            temporary.write_text(rewritten, encoding="utf-8")
            temporary.chmod(path.stat().st_mode)
            temporary.replace(path)
            changed.append(path)
    return changed
