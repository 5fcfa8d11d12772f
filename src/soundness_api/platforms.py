"""What the platforms' start-up needs from gunicorn that functions-framework's CLI cannot be told.

functions-framework builds gunicorn's settings itself (bind, workers, worker class) in
UvicornApplication.load_config, after it has imported main.py in gunicorn's master; install()
(called from main.py, before that) adds ours after its own:
- no control socket: gunicorn (25.1 and later) opens one at $XDG_RUNTIME_DIR or $HOME/.gunicorn,
  and where HOME is not writable (Cloud Run's user) it logs a plain-text "[ERROR] Control server
  error" that is neither JSON nor an error of the service. Nothing here uses gunicornc.
- Vertex AI's port: a custom container must listen on AIP_HTTP_PORT, and sets no PORT (the
  CLI's port, 8080 without it); there, the address functions-framework chose keeps its host
  and takes that port.
- gunicorn's and uvicorn's own lines (uvicorn's worker logs through gunicorn's logger), and
  whatever else goes through Python's logging, as JSON lines with a severity, like ours: Cloud
  Logging takes a plain-text stderr line for an ERROR.
- shutdown within Cloud Run's grace: SIGTERM, then SIGKILL 10 s later. uvicorn answers the
  requests under way for up to GRACEFUL_SECONDS, then cancels what is left (a client stalled
  mid-body, say) and exits; gunicorn's master kills a worker still there at WORKER_KILL_SECONDS.
Vertex AI's routes (AIP_PREDICT_ROUTE, AIP_HEALTH_ROUTE) are in the routing table (routes.py).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from gunicorn.glogging import Logger

from . import kserve_v1, logs

GRACEFUL_SECONDS = 7
WORKER_KILL_SECONDS = 8


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:  # one line still: the traceback's newlines are escaped in the JSON
            message = f"{message}\n{self.formatException(record.exc_info)}"
        return logs.line(record.levelname, message, logger=record.name).decode().rstrip("\n")


class JsonLogger(Logger):
    """gunicorn's logger, each of its handlers writing Cloud Logging's JSON lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


def json_root_logging() -> None:
    """Python's logging as JSON lines on stderr: functions-framework logs an exception that
    escaped the function through the root logger, in plain text (or, with LOG_EXECUTION_ID, as
    JSON without a severity)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().handlers = [handler]


def gunicorn_settings(bind: list[str], aip_http_port: int | None) -> dict[str, Any]:
    """gunicorn's settings that ours override, by gunicorn's names, given the framework's bind."""
    settings: dict[str, Any] = {
        "control_socket_disable": True,
        "graceful_timeout": WORKER_KILL_SECONDS,
        "logger_class": JsonLogger,
    }
    if aip_http_port is not None:
        settings["bind"] = [f"{address.rsplit(':', 1)[0]}:{aip_http_port}" for address in bind]
    return settings


def vertex_predict(predictor, body: Any, max_batch: int) -> tuple[dict[str, Any], int]:
    """Vertex AI's predict route: KServe V1's request and answer, its path naming no model."""
    return kserve_v1.predict(predictor, body, name=predictor.name, max_batch=max_batch)


def install(aip_http_port: int | None) -> None:
    from functions_framework._http.gunicorn import UvicornApplication
    from uvicorn_worker import UvicornWorker

    UvicornWorker.CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "timeout_graceful_shutdown": GRACEFUL_SECONDS}

    framework_load_config = UvicornApplication.load_config
    if getattr(framework_load_config, "ours", False):  # main.py imported again (create_app does)
        return

    def load_config(application: UvicornApplication) -> None:
        framework_load_config(application)
        for name, value in gunicorn_settings(application.cfg.bind, aip_http_port).items():
            application.cfg.set(name, value)
        json_root_logging()  # here, where the server is built: never in a process that only imports main.py

    load_config.ours = True  # type: ignore[attr-defined]
    UvicornApplication.load_config = load_config  # type: ignore[method-assign]
