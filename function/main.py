"""Cloud Functions entry point: `functions-framework --source function/main.py --target predict`.

Thin on purpose. Building the Service reads configuration and loads nothing: the model
is loaded on the first request that needs it, after gunicorn has forked its worker.
"""
import functions_framework

from api.config import Settings
from api.routes import Service

service = Service(Settings.from_env())


@functions_framework.http
def predict(request):
    return service.handle(request)
