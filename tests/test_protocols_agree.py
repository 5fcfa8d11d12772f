"""The four protocols give /predict's answers to the last bit, on real companies (../shared/data's
Korean DART statements, read in place), unknown inputs included: BigQuery's calls carry the nine
statement values (null where the filing lacks one), KServe V1's instances and the Open Inference
Protocol's tensors the features /predict derived from them (null, or the `unknown` mask, where a
ratio cannot be computed).
"""

from __future__ import annotations

import math

import pytest

from helpers import DEFAULT_MODEL, SHARED, need_shared

ROWS = 200


@pytest.fixture(scope="module")
def statements() -> list[dict]:
    """ROWS real company-years, every tenth row of the table, about a fifth with an unknown ratio."""
    from soundness.ratios import STATEMENT_FIELDS
    from training.data import load_kr

    need_shared(SHARED / "data" / "kr-dart")
    frame = load_kr(SHARED / "data").frame
    picked = frame.iloc[:: max(len(frame) // ROWS, 1)].head(ROWS)
    return [
        {field: None if math.isnan(value) else value for field, value in zip(STATEMENT_FIELDS, row)}
        for row in picked[list(STATEMENT_FIELDS)].itertuples(index=False)
    ]


@pytest.fixture
def bundled(make_client):
    return make_client(MODEL_DIR=DEFAULT_MODEL, BIGQUERY_ROUTE="on", MAX_BATCH=ROWS)


@pytest.fixture
def predicted(bundled, statements) -> tuple[list[str], list[dict]]:
    """The model's features, and /predict's answers for the companies it scores."""
    features = bundled.get("/model").json()["features"]
    answers = bundled.post("/predict", json={"companies": statements}).json()["predictions"]
    scored = [a for a in answers if "error" not in a]
    assert len(scored) >= ROWS * 0.9
    assert sum(any(w["code"] == "unknown_inputs" for w in a["warnings"]) for a in scored) >= ROWS * 0.1
    return features, answers


def scores(answer: dict, features: list[str]) -> tuple:
    """What every protocol carries of a row: probability, label, the explanation in feature order."""
    explanation = answer["explanation"]
    return (
        answer["probability_unsound"],
        answer["label"],
        explanation["baseline"],
        *(explanation["contributions"][f] for f in features),
    )


def test_bigquery_replies_are_predicts_answers(bundled, statements, predicted):
    _, answers = predicted
    calls = [list(company.values()) for company in statements]
    replies = bundled.post("/bigquery", json={"calls": calls}).json()["replies"]
    assert [{k: v for k, v in a.items() if k not in ("index", "id")} for a in answers if "error" not in a] == [
        reply for reply in replies if "error" not in reply
    ]
    assert ["error" in reply for reply in replies] == ["error" in a for a in answers]


def test_kserve_v1_predictions_and_explanations_are_predicts(bundled, predicted):
    features, answers = predicted
    scored = [a for a in answers if "error" not in a]
    instances = [{f: a["ratios"][f] for f in features} for a in scored]
    name = bundled.get("/model").json()["model"]["name"]
    v1 = bundled.post(f"/v1/models/{name}:predict", json={"instances": instances}).json()["predictions"]
    assert [scores(p, features) for p in v1] == [scores(a, features) for a in scored]
    explained = bundled.post(f"/v1/models/{name}:explain", json={"instances": instances}).json()["explanations"]
    assert [e["explanation"] for e in explained] == [a["explanation"] for a in scored]


@pytest.mark.parametrize("unknown_as", ["null", "mask"])
def test_open_inference_tensors_are_predicts_answers(bundled, predicted, unknown_as):
    features, answers = predicted
    scored = [a for a in answers if "error" not in a]
    values = [[a["ratios"][f] for f in features] for a in scored]
    inputs = [{"name": "features", "datatype": "FP64", "shape": [len(values), len(features)], "data": values}]
    if unknown_as == "mask":
        mask = [[v is None for v in row] for row in values]
        inputs = [
            {**inputs[0], "data": [[0.0 if v is None else v for v in row] for row in values]},
            {"name": "unknown", "datatype": "BOOL", "shape": inputs[0]["shape"], "data": mask},
        ]
    name = bundled.get("/model").json()["model"]["name"]
    response = bundled.post(f"/v2/models/{name}/infer", json={"inputs": inputs})
    assert response.status_code == 200, response.json()
    tensors = {o["name"]: o["data"] for o in response.json()["outputs"]}
    width = len(features)
    v2 = [
        (p, label, baseline, *tensors["contributions"][r * width : (r + 1) * width])
        for r, (p, label, baseline) in enumerate(
            zip(tensors["probability_unsound"], tensors["label"], tensors["baseline"])
        )
    ]
    assert v2 == [scores(a, features) for a in scored]
