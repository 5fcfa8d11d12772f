"""The bundled model's Korean figure measured through the API, as a client would measure it.

Every Korean DART statement is posted (companies form, values a statement lacks left out)
and the answers' probabilities ranked against the labels: the ROC-AUC must be the one the
training run measured in process and wrote into the manifest.
"""

import json
import math

import pytest
from sklearn.metrics import roc_auc_score

from helpers import DEFAULT_MODEL, SHARED, need_shared
from soundness.ratios import STATEMENT_FIELDS
from training import data

BATCH = 1000


@pytest.mark.data
def test_the_korean_roc_auc_through_the_api_is_the_one_training_reported(make_client):
    need_shared(SHARED / "data" / data.KR_FILE)
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text(encoding="utf-8"))
    reported = manifest["metrics"]["kr_dart"]
    client = make_client(MODEL_DIR=DEFAULT_MODEL, MAX_BODY_BYTES=10_000_000)
    frame = data.load_kr(SHARED / "data").frame
    labels, probabilities = [], []
    for start in range(0, len(frame), BATCH):
        part = frame.iloc[start : start + BATCH]
        companies = [
            {k: v for k, v in row.items() if not math.isnan(v)}
            for row in part[list(STATEMENT_FIELDS)].to_dict("records")
        ]
        response = client.post("/predict", json={"companies": companies, "explain": False})
        answers = response.json()["predictions"] if response.status_code == 200 else []
        for label, answer in zip(part["label"], answers):
            if "probability_unsound" in answer:
                labels.append(label)
                probabilities.append(answer["probability_unsound"])
    assert len(labels) == reported["rows"] and sum(labels) == reported["positives"]
    assert roc_auc_score(labels, probabilities) == pytest.approx(reported["every_row"]["served"]["mean_auc"], abs=1e-4)
