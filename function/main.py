"""Cloud Functions entry point: `functions-framework --source function/main.py --target predict`.

Thin on purpose. Building the Service reads configuration and loads nothing: the model
is loaded on the first request that needs it, after gunicorn has forked its worker.
"""
import flask
import functions_framework

from api.config import Settings
from api.routes import Service

service = Service(Settings.from_env())


@functions_framework.http
def predict(request):
    return service.handle(request)


@functions_framework.errorhandler(404)
def unrouted(error):
    # functions-framework's own router refuses some paths (a %0A in them) with an HTML page;
    # the service answers them as it answers any path it has no route for.
    return service.handle(flask.request)
