"""What the platforms' start-up needs from gunicorn that functions-framework's CLI cannot be told.

functions-framework builds gunicorn's settings itself (bind, workers, worker class) in
UvicornApplication.load_config, after it has imported main.py in gunicorn's master; install()
(called from main.py, before that) adds ours after its own:
- no control socket: gunicorn (25.1 and later) opens one at $XDG_RUNTIME_DIR or $HOME/.gunicorn,
  and where HOME is not writable (Cloud Run's user) it logs a plain-text "[ERROR] Control server
  error" that is neither JSON nor an error of the service. Nothing here uses gunicornc.
"""

from __future__ import annotations

from typing import Any


def gunicorn_settings() -> dict[str, Any]:
    """gunicorn's settings that ours override, by gunicorn's names."""
    return {"control_socket_disable": True}


def install() -> None:
    from functions_framework._http.gunicorn import UvicornApplication

    framework_load_config = UvicornApplication.load_config
    if getattr(framework_load_config, "ours", False):  # main.py imported again (create_app does)
        return

    def load_config(application: UvicornApplication) -> None:
        framework_load_config(application)
        for name, value in gunicorn_settings().items():
            application.cfg.set(name, value)

    load_config.ours = True  # type: ignore[attr-defined]
    UvicornApplication.load_config = load_config  # type: ignore[method-assign]
