"""The framework's floor: a function that answers a constant, for comparison only.

Served as ours is (functions-framework's ASGI mode, an `async def` on uvicorn's event loop,
with our HTTP protocol from soundness_api/connection.py), no request can be answered faster
under the same server, so its throughput bounds what any implementation, ours or the
legacy one, can reach on the machine.
"""

import sys
from pathlib import Path

import functions_framework.aio
from starlette.responses import Response

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "function"))
from soundness_api import connection

ANSWER = b'{"predictions": [{"label": 0}]}'
connection.install(10.0, lambda path: "OPTIONS, POST")


@functions_framework.aio.http
async def predict(request):
    return Response(ANSWER, media_type="application/json")
