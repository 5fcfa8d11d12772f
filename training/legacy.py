"""Reading the pickled files models used to come in: a `.pth` state_dict, a joblib scaler, and
artifact format 1 (manifest.json + model.pt + scaler.joblib). Only the importer reads them.

Nothing is trusted before it is checked: format 1's sha256s first, then torch's weights-only
loader, and a joblib unpickler that admits the few classes a fitted scaler is made of.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Any

from soundness.artifacts import MANIFEST, ArtifactError, sha256_of

FORMAT_1_WEIGHTS = "model.pt"
FORMAT_1_SCALER = "scaler.joblib"

# What a pickled scikit-learn scaler may reference, and nothing else.
ALLOWED_GLOBALS = frozenset(
    {
        ("sklearn.preprocessing._data", "MinMaxScaler"),
        ("sklearn.preprocessing._data", "StandardScaler"),
        ("sklearn.preprocessing._data", "RobustScaler"),
        ("sklearn.preprocessing._data", "MaxAbsScaler"),
        ("sklearn.preprocessing._data", "QuantileTransformer"),
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "scalar"),
    }
)


def _restricted_unpickler_class(name: str):
    import numpy as np
    from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

    class RestrictedUnpickler(NumpyUnpickler):
        """joblib's unpickler, admitting only the classes in ALLOWED_GLOBALS."""

        dispatch = NumpyUnpickler.dispatch.copy()

        def find_class(self, module: str, qualname: str) -> Any:
            if (module, qualname) not in ALLOWED_GLOBALS:
                raise ArtifactError(
                    f"{name} references {module}.{qualname}, which a scaler never needs: refusing to unpickle it"
                )
            return super().find_class(module, qualname)

        def load_build(self) -> None:
            pickle._Unpickler.load_build(self)
            wrapper = self.stack[-1]
            if isinstance(wrapper, NumpyArrayWrapper):
                # joblib reads object arrays with plain pickle.load, past find_class.
                if np.dtype(wrapper.dtype).hasobject:
                    raise ArtifactError(f"{name} holds an object array: refusing to unpickle it")
                self.stack.append(self.stack.pop().read(self, self.ensure_native_byte_order))

        dispatch[pickle.BUILD[0]] = load_build

    return RestrictedUnpickler


def load_scaler(path: Path) -> Any:
    """Unpickle a joblib file that must hold a fitted scikit-learn scaler."""
    from joblib.numpy_pickle import _validate_fileobject_and_memmap
    from sklearn.exceptions import InconsistentVersionWarning

    unpickler_class = _restricted_unpickler_class(path.name)
    try:
        with open(path, "rb") as raw, _validate_fileobject_and_memmap(raw, str(path), None) as (f, _):
            if isinstance(f, str):
                raise ArtifactError(f"{path.name} uses joblib's pre-0.10 format, which is not supported")
            with warnings.catch_warnings():
                # Scalers pickled by older scikit-learn (the legacy service's: 1.2) load fine; say it once.
                warnings.simplefilter("ignore", InconsistentVersionWarning)
                scaler = unpickler_class(str(path), f, ensure_native_byte_order=True).load()
    except ArtifactError:
        raise
    except Exception as exc:  # any corruption: truncated, not a pickle, bad opcodes
        raise ArtifactError(f"{path.name} is not a readable joblib scaler ({type(exc).__name__}: {exc})") from None
    if not hasattr(scaler, "transform") or not hasattr(scaler, "n_features_in_"):
        raise ArtifactError(f"{path.name} does not hold a fitted scaler")
    return scaler


def load_weights(path: Path) -> dict[str, Any]:
    """A torch state_dict, read with torch's weights-only loader (GPU-saved tensors land on the CPU)."""
    import torch

    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise ArtifactError(f"{path.name} is not a readable torch state_dict ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise ArtifactError(f"{path.name} must hold a state_dict, not {type(state).__name__}")
    return state


def read_format_1(directory: Path) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(manifest, state_dict, scaler) of a format-1 artifact directory, its sha256s checked first."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{directory / MANIFEST} cannot be read ({type(exc).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("schema_version") != 1:
        raise ArtifactError(f"{directory} is not a format-1 artifact (its manifest has no schema_version 1)")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {FORMAT_1_WEIGHTS, FORMAT_1_SCALER}:
        raise ArtifactError(f"{MANIFEST} must give the sha256 of {FORMAT_1_WEIGHTS} and {FORMAT_1_SCALER}")
    for name, expected in files.items():
        path = directory / name
        if not path.is_file() or sha256_of(path) != expected:
            raise ArtifactError(f"{name} is missing or does not match its sha256 in {MANIFEST}: refusing to read it")
    return manifest, load_weights(directory / FORMAT_1_WEIGHTS), load_scaler(directory / FORMAT_1_SCALER)
