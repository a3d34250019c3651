"""Serving a model with the user's own inference script, as SageMaker's framework containers do.

The script (``$SAGEMAKER_PROGRAM``, e.g. ``inference.py``) is imported from the code
folder ``$SAGEBOX_CODE_DIR`` (default: ``<model dir>/code``), which is put on
``sys.path`` so its sibling modules import too. It may define:

- ``model_fn(model_dir) -> model``
- ``input_fn(body, content_type) -> input``, ``predict_fn(input, model) -> prediction``,
  ``output_fn(prediction, accept) -> body`` (or ``(body, content_type)``)
- or instead of the last three, ``transform_fn(model, body, content_type, accept)``.

Whatever it leaves out, the framework's defaults do (``$SAGEBOX_SERVING_FRAMEWORK``):

- scikit-learn: ``model_fn`` loads ``model.joblib`` or the only ``*.joblib`` / ``*.pkl``
  file (the user's own model, so unpickling is trusted here); ``predict_fn`` is
  ``model.predict(input)``.
- XGBoost: ``model_fn`` loads the ``xgboost-model`` booster (saved or pickled);
  ``predict_fn`` predicts on a ``DMatrix`` of the rows.
- PyTorch, TensorFlow, Hugging Face: the framework library must be installed; the
  script must define ``model_fn``; ``predict_fn`` calls ``model.predict`` or ``model``.

Default ``input_fn`` reads ``text/csv``, ``application/json`` (a list of rows, or
``{"instances": [...]}``) and ``application/x-npy``; default ``output_fn`` writes
``application/json`` (the default Accept, or ``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``),
``text/csv`` and ``application/x-npy``. An exception raised by the user's code answers
500 with the exception's last traceback line; the full traceback goes to the log.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sagebox.serving import media
from sagebox.serving.errors import BadRequest, ModelLoadError, ServingError

NPY = "application/x-npy"
CONTENT_TYPES = (media.CSV, media.JSON, NPY)
ACCEPTS = (media.JSON, media.CSV, NPY)
CODE_DIR_VARIABLE = "SAGEBOX_CODE_DIR"
FRAMEWORK_VARIABLE = "SAGEBOX_SERVING_FRAMEWORK"
PROGRAM_VARIABLE = "SAGEMAKER_PROGRAM"
ACCEPT_VARIABLE = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"

_REQUIRED: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "pytorch": ("PyTorch", (("torch", "torch"),)),
    "tensorflow": ("TensorFlow", (("tensorflow", "tensorflow"),)),
    "huggingface": ("Hugging Face", (("torch", "torch"), ("transformers", "transformers"))),
}
"""Framework -> (its name, (module, pip package) it needs) for frameworks sagebox does not ship."""


class UserCodeError(ServingError):
    """The user's inference code raised; answered 500 with the exception's last traceback line."""

    status = 500


def _last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _call_user(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except ServingError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's error is the answer
        traceback.print_exc(file=sys.stderr)
        raise UserCodeError(f"{function.__name__} in the inference script failed: {_last_line(exc)}") from exc


# -- framework defaults ---------------------------------------------------------------------


def _model_files(model_dir: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in model_dir.iterdir() if p.is_file() and p.suffix in suffixes)


def sklearn_model_fn(model_dir: str) -> Any:
    folder = Path(model_dir)
    preferred = folder / "model.joblib"
    candidates = [preferred] if preferred.is_file() else _model_files(folder, (".joblib", ".pkl", ".pickle"))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise ModelLoadError(
            "the scikit-learn default model_fn loads 'model.joblib' or the only *.joblib/*.pkl file in the "
            f"model folder (found: {found}); define model_fn(model_dir) in the inference script otherwise"
        )
    path = candidates[0]
    if path.suffix == ".joblib":
        import joblib

        return joblib.load(path)
    with path.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301 - the user's own model


def xgboost_model_fn(model_dir: str) -> Any:
    import xgboost as xgb

    path = Path(model_dir) / "xgboost-model"
    if not path.is_file():
        raise ModelLoadError(
            "the XGBoost default model_fn loads 'xgboost-model' from the model folder, which has none; "
            "define model_fn(model_dir) in the inference script otherwise"
        )
    data = path.read_bytes()
    if data[:1] == b"\x80":  # a pickled booster, as the XGBoost container accepts
        return pickle.loads(data)  # noqa: S301 - the user's own model
    booster = xgb.Booster()
    booster.load_model(bytearray(data))
    return booster


def missing_model_fn(framework: str) -> Callable[[str], Any]:
    def model_fn(model_dir: str) -> Any:
        raise ModelLoadError(
            f"the inference script defines no model_fn(model_dir); sagebox has no default model "
            f"loading for {_REQUIRED[framework][0]} models, so define one"
        )

    return model_fn


def default_input_fn(body: bytes, content_type: str) -> np.ndarray:
    request = media.content_type(content_type, CONTENT_TYPES, media.JSON).name
    try:
        if request == media.CSV:
            return np.loadtxt(io.StringIO(body.decode("utf-8")), delimiter=",", ndmin=2, dtype=np.float64)
        if request == NPY:
            return np.load(io.BytesIO(body), allow_pickle=False)
        data = json.loads(body)
        if isinstance(data, dict):
            if "instances" not in data:
                raise BadRequest('a JSON object request must hold the rows under "instances"')
            data = data["instances"]
        return np.asarray(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the {request} request body cannot be decoded: {exc}") from None


def default_predict_fn(data: Any, model: Any) -> Any:
    if hasattr(model, "predict"):
        return model.predict(data)
    return model(data)


def xgboost_predict_fn(data: Any, model: Any) -> Any:
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        return model.predict(xgb.DMatrix(np.asarray(data, dtype=np.float64), missing=np.nan))
    return default_predict_fn(data, model)


def make_output_fn(default_accept: str) -> Callable[[Any, str], tuple[bytes, str]]:
    def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
        response = media.negotiate(accept, ACCEPTS, default_accept)
        if response == media.JSON:
            value = prediction.tolist() if hasattr(prediction, "tolist") else prediction
            return json.dumps(value).encode(), media.JSON
        array = np.asarray(prediction)
        buffer = io.BytesIO()
        if response == NPY:
            np.save(buffer, array, allow_pickle=False)
            return buffer.getvalue(), NPY
        np.savetxt(buffer, np.atleast_1d(array), delimiter=",", fmt="%s")
        return buffer.getvalue(), media.CSV

    return default_output_fn


# -- loading ----------------------------------------------------------------------------------


def import_script(code_dir: Path, program: str) -> ModuleType:
    """Imports the user's script from ``code_dir`` (added to ``sys.path``)."""
    path = code_dir / program
    if not path.is_file():
        raise ModelLoadError(f"the inference script '{program}' ({PROGRAM_VARIABLE}) is not in {code_dir}")
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"the inference script {program} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's import error is the failure reason
        traceback.print_exc(file=sys.stderr)
        raise ModelLoadError(f"importing the inference script {program} failed: {_last_line(exc)}") from exc
    return module


def check_framework(framework: str) -> None:
    """ModelLoadError naming what to install when the framework's library is missing."""
    if framework not in _REQUIRED:
        return
    name, needs = _REQUIRED[framework]
    missing = [package for module, package in needs if importlib.util.find_spec(module) is None]
    if missing:
        raise ModelLoadError(
            f"the {name} inference image serves models with {name}, which is not installed in this "
            f"sagebox environment; install it with: pip install {' '.join(missing)}"
        )


def load(model_dir: Path) -> ScriptHandler:
    """The handler for ``model_dir`` served by the script ``$SAGEMAKER_PROGRAM``; raises ``ModelLoadError``."""
    program = os.environ.get(PROGRAM_VARIABLE)
    if not program:
        raise ModelLoadError(f"the script handler needs Environment {PROGRAM_VARIABLE} naming the inference script")
    framework = os.environ.get(FRAMEWORK_VARIABLE) or "sklearn"
    check_framework(framework)
    code_dir = Path(os.environ.get(CODE_DIR_VARIABLE) or model_dir / "code")
    module = import_script(code_dir, program)
    default_accept = os.environ.get(ACCEPT_VARIABLE) or (media.CSV if framework == "xgboost" else media.JSON)
    defaults: dict[str, Callable[..., Any]] = {
        "model_fn": {"sklearn": sklearn_model_fn, "xgboost": xgboost_model_fn}.get(framework)
        or missing_model_fn(framework),
        "input_fn": default_input_fn,
        "predict_fn": xgboost_predict_fn if framework == "xgboost" else default_predict_fn,
        "output_fn": make_output_fn(media.parse_media_type(default_accept).name),
    }
    functions = {name: getattr(module, name, None) for name in defaults}
    model_fn = functions["model_fn"]
    if model_fn is None:
        model = defaults["model_fn"](str(model_dir))
    else:
        try:
            model = model_fn(str(model_dir))
        except Exception as exc:  # noqa: BLE001 - the user's error is the failure reason
            traceback.print_exc(file=sys.stderr)
            raise ModelLoadError(f"model_fn in {program} failed: {_last_line(exc)}") from exc
    transform_fn = getattr(module, "transform_fn", None)
    chosen = {name: functions[name] or default for name, default in defaults.items()}
    return ScriptHandler(model, chosen, transform_fn, default_accept)


class ScriptHandler:
    """Answers invocations through the user's functions and the framework's defaults."""

    def __init__(
        self,
        model: Any,
        functions: dict[str, Callable[..., Any]],
        transform_fn: Callable[..., Any] | None,
        default_accept: str,
    ) -> None:
        self.model = model
        self.input_fn = functions["input_fn"]
        self.predict_fn = functions["predict_fn"]
        self.output_fn = functions["output_fn"]
        self.transform_fn = transform_fn
        self.default_accept = default_accept

    def predict(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if self.transform_fn is not None:
            result = _call_user(self.transform_fn, self.model, body, content_type, accept)
        else:
            data = _call_user(self.input_fn, body, content_type)
            prediction = _call_user(self.predict_fn, data, self.model)
            result = _call_user(self.output_fn, prediction, accept)
        return self._response(result, accept)

    def _response(self, result: Any, accept: str) -> tuple[bytes, str]:
        response_type = accept if accept.strip() and "*" not in accept else self.default_accept
        if isinstance(result, tuple) and len(result) == 2:
            result, response_type = result
        if isinstance(result, str):
            result = result.encode("utf-8")
        if not isinstance(result, (bytes, bytearray)):
            raise UserCodeError(
                f"the inference script's output must be bytes or str (or a (body, content_type) pair), "
                f"not {type(result).__name__}"
            )
        return bytes(result), str(response_type)
