"""The model, loaded on the first request that needs it, once per instance.

functions-framework imports main.py in gunicorn's master before forking; so nothing is
loaded at import, only on first use inside a worker (each worker holds its own copy), under
a lock: the first requests wait for it on threads beside the event loop, which keeps
answering /health meanwhile. Loading reads numpy arrays only: about 30 ms for the bundled
model on a busy 2-core machine. numpy itself is imported before that, in gunicorn's master
(main.py -> platforms -> kserve_v1 -> answers), and each worker inherits it with the fork:
measured, deferring it to the first prediction answers /health sooner but the first
prediction no sooner (it pays the same import), so the master keeps it.

A load that fails is tried again on the first request after a backoff (1 s, doubling to
RETRY_MAX_SECONDS), so an artifact repaired on disk (a mount that came late, a copy that
finished) is served without a restart; meanwhile /ready answers 503 with the reason and when
the next attempt is, and the platform's readiness probe decides what to do with the instance.
A model once loaded is kept: files changed on disk after that are not read.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import logs

if TYPE_CHECKING:
    from soundness.predictor import Predictor

RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0


class ModelUnavailable(Exception):
    """The artifact cannot be served; the message is safe to show a client."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after  # whole seconds until the next attempt to load


class LazyModel:
    def __init__(self, model_dir: Path):
        self._model_dir = Path(model_dir)
        self._lock = threading.Lock()
        self._predictor: Predictor | None = None
        self._failure: str | None = None  # why the last attempt failed
        self._failures = 0  # attempts failed in a row
        self._retry_at = 0.0  # time.monotonic() from which the next attempt may start

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    @property
    def version(self) -> str | None:
        return self._predictor.version if self._predictor else None

    def get(self) -> Predictor:
        """The Predictor, loading it if this is the first call (or a failed load's backoff has
        passed); ModelUnavailable if it cannot."""
        if self._predictor is None and self._due():
            with self._lock:
                if self._predictor is None and self._due():
                    self._load()
        if self._predictor is None:
            raise self._unavailable()
        return self._predictor

    async def get_async(self) -> Predictor:
        """get(), loading on a thread so the event loop goes on serving while the model loads."""
        if self._predictor is not None:
            return self._predictor
        if not self._due():  # failed, and not yet time to try again: no thread needed to say so
            raise self._unavailable()
        return await asyncio.to_thread(self.get)

    def _due(self) -> bool:
        return self._failure is None or time.monotonic() >= self._retry_at

    def _unavailable(self) -> ModelUnavailable:
        wait = max(1, math.ceil(self._retry_at - time.monotonic()))
        return ModelUnavailable(
            f"{self._failure} (attempts: {self._failures}; the next on the first request {wait} s from now or later)",
            wait,
        )

    def _load(self) -> None:
        # Imported here, not at module import, so this module alone brings no numpy (main has it already).
        from soundness.artifacts import ArtifactError, load
        from soundness.predictor import Predictor

        try:
            try:
                self._model_dir.stat()  # a symlink loop, say, named in the system's words
            except OSError as exc:
                raise ArtifactError(f"the model directory cannot be opened ({exc.strerror})") from None
            predictor = Predictor(load(self._model_dir))
        except Exception as exc:
            # Only ArtifactError messages are written for clients; anything else is named by its type.
            reason = str(exc) if isinstance(exc, ArtifactError) else f"loading failed ({type(exc).__name__})"
            failure = f"model artifacts cannot be served: {reason}"
            self._failures += 1
            self._retry_at = time.monotonic() + min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (self._failures - 1))
            if failure != self._failure:  # said once per reason, not once per attempt
                logs.emit("ERROR", failure, model_dir=self._model_dir.name)
            self._failure = failure
            return
        self._predictor, self._failure, self._failures = predictor, None, 0
        logs.emit("INFO", "model loaded", model=predictor.name, model_version=predictor.version)
