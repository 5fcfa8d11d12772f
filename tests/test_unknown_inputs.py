"""The bundled model (version 2) through the API: unknown ratios are inputs, every answer explained.

A ratio that cannot be computed, or a value not given, is scored as unknown with a warning
naming it; only a company with none of the model's inputs known is refused. Each prediction's
explanation adds up to its probability's log-odds.
"""

import math

import numpy as np
import pytest

from helpers import DEFAULT_MODEL, LEGACY_RATIOS, LEGACY_STATEMENT


@pytest.fixture
def client(make_client):
    return make_client(MODEL_DIR=DEFAULT_MODEL)


def predict(client, body):
    response = client.post("/predict", json=body)
    return response.status_code, response.json()


def log_odds(p):
    return math.log(p / (1 - p))


def test_a_first_year_company_without_prior_year_values_is_scored_with_the_unknowns_named(client):
    current_only = {k: v for k, v in LEGACY_STATEMENT.items() if not k.endswith("_prior")}
    status, body = predict(client, {"companies": [current_only]})
    assert status == 200
    [prediction] = body["predictions"]
    assert prediction["ratios"]["revenue_growth_pct"] is None and prediction["ratios"]["equity_ratio_pct"] > 0
    [warning] = [w for w in prediction["warnings"] if w["code"] == "unknown_inputs"]
    assert "revenue_growth_pct" in warning["fields"] and "total_assets_prior" in warning["message"]


def test_a_zero_denominator_leaves_its_ratios_unknown_instead_of_refusing_the_company(client):
    status, body = predict(client, {"companies": [{**LEGACY_STATEMENT, "revenue_prior": 0}]})
    assert status == 200
    [warning] = [w for w in body["predictions"][0]["warnings"] if w["code"] == "unknown_inputs"]
    assert "revenue_growth_pct" in warning["fields"]


def test_a_company_with_nothing_usable_is_refused_naming_the_fields(client):
    response = client.post("/predict", json={"companies": [{k: 0 for k in LEGACY_STATEMENT}]})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"total_assets", "revenue"} <= fields


def test_the_legacy_five_ratio_forms_are_scored_by_the_same_model(client):
    status, by_data = predict(client, {"data": [LEGACY_RATIOS]})
    names = [
        "revenue_growth_pct",
        "total_asset_growth_pct",
        "operating_margin_pct",
        "equity_ratio_pct",
        "total_asset_turnover",
    ]
    status_instances, by_name = predict(client, {"instances": [dict(zip(names, LEGACY_RATIOS))]})
    assert status == status_instances == 200
    assert by_data["predictions"][0]["probability_unsound"] == pytest.approx(
        by_name["predictions"][0]["probability_unsound"], abs=1e-12
    )


def test_every_prediction_is_explained_and_the_explanation_adds_up_to_its_log_odds(client):
    status, body = predict(client, {"companies": [LEGACY_STATEMENT, {**LEGACY_STATEMENT, "total_equity": -5e9}]})
    assert status == 200
    for prediction in body["predictions"]:
        explanation = prediction["explanation"]
        assert explanation["unit"] == "log_odds"
        total = explanation["baseline"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(log_odds(prediction["probability_unsound"]), abs=1e-6)


def test_a_batch_may_turn_explanations_off(client):
    status, body = predict(client, {"companies": [LEGACY_STATEMENT], "explain": False})
    assert status == 200 and "explanation" not in body["predictions"][0]
    response = client.post("/predict", json={"companies": [LEGACY_STATEMENT], "explain": "no"})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "explain"


def test_a_denominator_too_close_to_zero_makes_the_ratios_it_breaks_unknown_naming_them(client):
    status, body = predict(client, {"companies": [{**LEGACY_STATEMENT, "total_assets": 1e-320}]})
    assert status == 200
    [warning] = [w for w in body["predictions"][0]["warnings"] if w["code"] == "unknown_inputs"]
    assert "total_assets is too close to 0 to compute equity_ratio_pct and total_asset_turnover" in warning["message"]


def test_a_non_finite_explanation_is_an_internal_error_not_a_null(client, monkeypatch):
    from soundness.predictor import Predictor

    def broken(self, x, explain=False):
        return np.full(len(x), 0.5), np.full((len(x), len(self.features)), np.nan)

    monkeypatch.setattr(Predictor, "predict", broken)
    response = client.post("/predict", json={"companies": [LEGACY_STATEMENT]})
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal"
