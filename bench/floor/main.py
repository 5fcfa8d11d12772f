"""The framework's floor: a functions-framework function that answers a constant, for comparison only.

No request can be served faster than this under the same server, so its throughput bounds
what any implementation, ours or the seed's, can reach on the machine.
"""
import functions_framework


@functions_framework.http
def predict(request):
    return {"predictions": [{"label": 0}]}
