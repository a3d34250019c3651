"""Redirects file access below /opt/ml to a job's folder (a best effort).

sagebox runs a processing or training job as a local process whose folder stands for
/opt/ml. A script that hard-codes "/opt/ml/processing/input/data.csv" or
"/opt/ml/model" would not find it, so, in every Python process of the job (this
folder is on its PYTHONPATH), the functions that take a file path are wrapped: a path
equal to /opt/ml or below it is replaced by the same path below $SAGEBOX_OPT_ML. That
covers open(), pathlib, os.stat / listdir / scandir / mkdir / makedirs / remove /
rename ..., glob, shutil and the libraries built on them (pandas, numpy, csv). Code
that opens files from C without going through Python (some native readers) and other
programs (`cp /opt/ml/...` in a subprocess) are not covered: pass such paths as
arguments, which sagebox rewrites (training jobs also get them rewritten in the shell
scripts of their input channels).

SAGEBOX_REDIRECT_OPT_ML=0 in the job's Environment turns this off. Any other
sitecustomize module on the path still runs after this one.
"""

import builtins
import functools
import importlib
import io
import os
import sys

_PREFIX = "/opt/ml"
_ONE_PATH = (
    "stat", "lstat", "listdir", "scandir", "mkdir", "rmdir", "remove", "unlink", "chdir",
    "access", "chmod", "utime", "truncate", "readlink", "open", "statvfs",
)
_TWO_PATHS = ("rename", "replace", "link", "symlink")


def _redirect(root):
    root_bytes = os.fsencode(root)

    def mapped(path):
        if isinstance(path, int):
            return path
        try:
            text = os.fspath(path)
        except TypeError:
            return path
        if isinstance(text, str):
            if text == _PREFIX or text.startswith(_PREFIX + "/"):
                return root + text[len(_PREFIX) :]
            return path
        if text == os.fsencode(_PREFIX) or text.startswith(os.fsencode(_PREFIX) + b"/"):
            return root_bytes + text[len(_PREFIX) :]
        return path

    return mapped


def _wrap(function, mapped, positions):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if args:
            args = tuple(mapped(a) if i in positions else a for i, a in enumerate(args))
        for name in ("file", "path", "src", "dst"):
            if name in kwargs:
                kwargs[name] = mapped(kwargs[name])
        return function(*args, **kwargs)

    wrapper.__sagebox_redirect__ = True
    return wrapper


def _install(root):
    mapped = _redirect(root.rstrip("/"))
    if getattr(builtins.open, "__sagebox_redirect__", False):
        return
    builtins.open = _wrap(builtins.open, mapped, {0})
    io.open = builtins.open
    for name in _ONE_PATH:
        if hasattr(os, name):
            setattr(os, name, _wrap(getattr(os, name), mapped, {0}))
    for name in _TWO_PATHS:
        if hasattr(os, name):
            setattr(os, name, _wrap(getattr(os, name), mapped, {0, 1}))


def _run_next_sitecustomize():
    """Imports the sitecustomize this module shadows, if the environment has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    ours = sys.modules.get(__name__)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.modules.pop(__name__, None)
    try:
        importlib.import_module("sitecustomize")
    except ImportError:
        pass
    finally:
        sys.path[:] = saved
        if ours is not None:
            sys.modules[__name__] = ours


_root = os.environ.get("SAGEBOX_OPT_ML")
if _root and os.environ.get("SAGEBOX_REDIRECT_OPT_ML", "1").lower() not in ("0", "false", "no", "off"):
    _install(_root)
if __name__ == "sitecustomize":
    _run_next_sitecustomize()
