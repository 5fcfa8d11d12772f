"""Cloud Functions entry point: `functions-framework --source function/main.py --target predict`.

Thin on purpose. Building the Service reads configuration and loads nothing: the model
is loaded on the first request that needs it, after gunicorn has forked its worker.
"""
import functions_framework

from api import logs
from api.config import ConfigError, Settings
from api.routes import Service

try:
    settings = Settings.from_env()
except ConfigError as error:  # refuse to start, saying why in one log line, not a traceback
    logs.emit("CRITICAL", f"configuration refused: {error}")
    raise SystemExit(1) from None
service = Service(settings)


@functions_framework.http
def predict(request):
    return service.handle(request)
