"""The legacy way of serving, for comparison only: `functions-framework --asgi --source bench/baseline/main.py`.

As in the legacy FastAPI service, every prediction reads the joblib scaler and the torch
state_dict from disk, builds the network, runs scikit-learn's transform and an eager
forward. It accepts the legacy service's request, {"data": [[five ratios], ...]}, and answers each
row's label and probability. Files come from LEGACY_ARTIFACTS (read in place).
"""

import os
from pathlib import Path

import functions_framework.aio
import joblib
import torch

from training.network import NeuralNet

LEGACY_ARTIFACTS = Path(
    os.environ.get("LEGACY_ARTIFACTS", Path(__file__).resolve().parents[3] / "shared" / "reference" / "seed-artifacts")
)
# The legacy service's NeuralNet(5, 2) had these hidden widths written into its class.
INPUTS, HIDDEN, CLASSES = 5, [8, 32, 518, 32, 16], 2


def predict_legacy_way(rows: list) -> list[dict]:
    scaler = joblib.load(LEGACY_ARTIFACTS / "minmax_scaler.pkl")
    scaled = scaler.transform(rows)
    model = NeuralNet(INPUTS, HIDDEN, CLASSES)
    model.load_state_dict(torch.load(LEGACY_ARTIFACTS / "predict_model.pth", map_location="cpu"))
    model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(torch.FloatTensor(scaled)), dim=1)
    return [{"label": int(p.argmax()), "probability_unsound": float(p[1])} for p in probabilities]


@functions_framework.aio.http
async def predict(request):
    if request.method == "GET":
        return "credit classification model"  # the legacy service's root route: what /health polls here
    return {"predictions": predict_legacy_way((await request.json())["data"])}
