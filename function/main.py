"""Cloud Functions entry point: `functions-framework --asgi --source function/main.py --target predict`.

Thin on purpose. Building the Service reads configuration and loads nothing: the model
is loaded on the first request that needs it, after gunicorn has forked its worker. The
function is a coroutine on uvicorn's event loop (functions-framework's ASGI mode), so a
slow or silent client holds a coroutine, not a thread.
"""

import functions_framework.aio

from soundness_api import connection, logs, platforms
from soundness_api.config import ConfigError, Settings
from soundness_api.request_cycle import Service

try:
    settings = Settings.from_env()
except ConfigError as error:  # refuse to start, saying why in one log line, not a traceback
    logs.emit("CRITICAL", f"configuration refused: {error}")
    raise SystemExit(1) from None
service = Service(settings)
# The server's HTTP protocol, and gunicorn's settings the platforms need (which functions-framework's
# CLI cannot take): both before the fork.
connection.install(settings.client_timeout, service.allow, settings.max_body_bytes, service.refusal_body)
platforms.install(settings.aip_http_port)


@functions_framework.aio.http
async def predict(request):
    with logs.for_request(request.headers):  # its lines carry its trace and execution id
        return await service.handle(request)
