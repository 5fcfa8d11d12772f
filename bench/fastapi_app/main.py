"""What a user would write instead, for comparison only: FastAPI on uvicorn, the model loaded
once at start-up, a pydantic model of the statement form, the same ratios and predictor.

    python -m uvicorn bench.fastapi_app.main:app --host 127.0.0.1 --port 8080
MODEL_DIR names the artifact directory (default artifacts/default).
"""

import os
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

from soundness import ratios
from soundness.artifacts import load
from soundness.predictor import Predictor

MODEL_DIR = Path(os.environ.get("MODEL_DIR") or Path(__file__).resolve().parents[2] / "artifacts" / "default")
model: dict[str, Predictor] = {}


class Company(BaseModel):
    id: str | int | None = None
    total_assets: float
    total_assets_prior: float
    total_liabilities: float
    total_equity: float
    revenue: float
    revenue_prior: float
    operating_income: float
    operating_income_prior: float
    net_income: float


class PredictRequest(BaseModel):
    companies: list[Company]


@asynccontextmanager
async def lifespan(app: FastAPI):
    model["predictor"] = Predictor(load(MODEL_DIR))
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/predict")
async def predict(request: PredictRequest):
    predictor = model["predictor"]
    computed = [ratios.compute(c.model_dump(exclude={"id"})) for c in request.companies]
    probabilities = predictor.probabilities(np.array([[r.values[n] for n in predictor.features] for r in computed]))
    labels = predictor.labels(probabilities)
    return {
        "predictions": [
            {"index": i, "id": c.id, "label": int(label), "probability_unsound": float(p), "ratios": r.values}
            for i, (c, r, p, label) in enumerate(zip(request.companies, computed, probabilities, labels))
        ]
    }
