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
Vertex AI's routes (AIP_PREDICT_ROUTE, AIP_HEALTH_ROUTE) are in the routing table (routes.py).
"""

from __future__ import annotations

from typing import Any

from . import kserve_v1


def gunicorn_settings(bind: list[str], aip_http_port: int | None) -> dict[str, Any]:
    """gunicorn's settings that ours override, by gunicorn's names, given the framework's bind."""
    settings: dict[str, Any] = {"control_socket_disable": True}
    if aip_http_port is not None:
        settings["bind"] = [f"{address.rsplit(':', 1)[0]}:{aip_http_port}" for address in bind]
    return settings


def vertex_predict(predictor, body: Any, max_batch: int) -> tuple[dict[str, Any], int]:
    """Vertex AI's predict route: KServe V1's request and answer, its path naming no model."""
    return kserve_v1.predict(predictor, body, name=predictor.name, max_batch=max_batch)


def install(aip_http_port: int | None) -> None:
    from functions_framework._http.gunicorn import UvicornApplication

    framework_load_config = UvicornApplication.load_config
    if getattr(framework_load_config, "ours", False):  # main.py imported again (create_app does)
        return

    def load_config(application: UvicornApplication) -> None:
        framework_load_config(application)
        for name, value in gunicorn_settings(application.cfg.bind, aip_http_port).items():
            application.cfg.set(name, value)

    load_config.ours = True  # type: ignore[attr-defined]
    UvicornApplication.load_config = load_config  # type: ignore[method-assign]
