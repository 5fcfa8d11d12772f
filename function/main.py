"""Cloud Functions entry point: `functions-framework --asgi --source function/main.py --target predict`.

Thin on purpose. Building the Service reads configuration and loads nothing: the model
is loaded on the first request that needs it, after gunicorn has forked its worker. The
function is a coroutine on uvicorn's event loop (functions-framework's ASGI mode), so a
slow or silent client holds a coroutine, not a thread.
"""
import functions_framework.aio

from api import connection
from api.config import Settings
from api.request_cycle import Service

settings = Settings.from_env()
service = Service(settings)
connection.install(settings.client_timeout, service.allow)  # the server's HTTP protocol, before the fork


@functions_framework.aio.http
async def predict(request):
    return await service.handle(request)
