"""The framework's floor: a function that answers a constant, for comparison only.

Served as ours is (functions-framework's ASGI mode: an `async def` on uvicorn's event loop),
no request can be answered faster under the same server, so its throughput bounds what any
implementation, ours or the seed's, can reach on the machine.
"""
import functions_framework.aio
from starlette.responses import Response

ANSWER = b'{"predictions": [{"label": 0}]}'


@functions_framework.aio.http
async def predict(request):
    return Response(ANSWER, media_type="application/json")
