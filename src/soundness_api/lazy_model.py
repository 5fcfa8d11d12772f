"""The model, loaded on the first request that needs it, once per instance.

functions-framework imports main.py in gunicorn's master before forking; so nothing is
loaded at import, only on first use inside a worker (each worker holds its own copy), under
a lock: the first requests wait for it on threads beside the event loop, which keeps
answering /health meanwhile. Loading reads numpy arrays only: about 30 ms for the bundled
model on a busy 2-core machine, plus importing numpy.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from . import logs


class ModelUnavailable(Exception):
    """The artifact cannot be served; the message is safe to show a client."""


class LazyModel:
    def __init__(self, model_dir: Path):
        self._model_dir = Path(model_dir)
        self._lock = threading.Lock()
        self._predictor = None
        self._failure: str | None = None

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    @property
    def version(self) -> str | None:
        return self._predictor.version if self._predictor else None

    def get(self):
        """The Predictor, loading it if this is the first call; ModelUnavailable if it cannot."""
        if self._predictor is None and self._failure is None:
            with self._lock:
                if self._predictor is None and self._failure is None:
                    self._load()
        if self._predictor is None:
            raise ModelUnavailable(self._failure)
        return self._predictor

    async def get_async(self):
        """get(), loading on a thread so the event loop goes on serving while the model loads."""
        if self._predictor is not None:
            return self._predictor
        return await asyncio.to_thread(self.get)

    def _load(self) -> None:
        # Imported here, not at module import: numpy is not needed before the first prediction.
        from soundness.artifacts import ArtifactError, load
        from soundness.predictor import Predictor

        try:
            try:
                self._model_dir.stat()  # a symlink loop, say, named in the system's words
            except OSError as exc:
                raise ArtifactError(f"the model directory cannot be opened ({exc.strerror})") from None
            self._predictor = Predictor(load(self._model_dir))
        except Exception as exc:
            # A broken artifact stays broken: remember why, say it once, refuse to serve. Only
            # ArtifactError messages are written for clients; anything else is named by its type.
            reason = str(exc) if isinstance(exc, ArtifactError) else f"loading failed ({type(exc).__name__})"
            self._failure = f"model artifacts cannot be served: {reason}"
            logs.emit("ERROR", self._failure, model_dir=self._model_dir.name)
            return
        logs.emit("INFO", "model loaded", model=self._predictor.name, model_version=self._predictor.version)
