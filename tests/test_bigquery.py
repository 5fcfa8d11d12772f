"""POST /bigquery: BigQuery's remote-function requests, replayed as BigQuery sends them.

The contract is BigQuery's ("Work with remote functions"): `calls` in, exactly one reply per call
out, in order; a row's error in its reply; `errorMessage` under 1 KB for a request that is wrong
as a whole (400, not retried) or a model that cannot serve (503, retried). Numbers come in
BigQuery's JSON encoding: NUMERIC, BIGNUMERIC and large INT64 as strings, FLOAT64's NaN and
infinities as "NaN", "Infinity", "-Infinity", NULL as null. A scored reply carries /predict's
explanation unless `userDefinedContext` says `"explain": "false"` (BigQuery's context values are
strings).
"""

import json
import math
import re

import pytest

from helpers import DEFAULT_MODEL, LEGACY_STATEMENT, ROOT

FIELDS = list(LEGACY_STATEMENT)


def envelope(calls, context=None) -> dict:
    """A request as BigQuery writes it (the fields and their shapes from its documentation)."""
    return {
        "requestId": "124ab1c",
        "caller": "//bigquery.googleapis.com/projects/demo/jobs/demo:US.bquxjob_5b4c",
        "sessionUser": "analyst@example.com",
        "userDefinedContext": context or {},
        "calls": calls,
    }


def call(**changes) -> list:
    return [changes.get(name, LEGACY_STATEMENT[name]) for name in FIELDS]


@pytest.fixture
def served_model_dir(legacy_model_dir):
    """The protocol is tested on the legacy five-ratio model, which needs every input: its calls here carry five ratios and every statement value."""
    return legacy_model_dir


@pytest.fixture
def client(make_client, served_model_dir):
    return make_client(MODEL_DIR=served_model_dir, BIGQUERY_ROUTE="on")


def bigquery(client, body, **kwargs):
    response = client.post("/bigquery", json=body, **kwargs)
    return response.status_code, response.json()


def predicted(client, body) -> list[dict]:
    """/predict's answers for the same rows, without the fields BigQuery's replies leave out."""
    response = client.post("/predict", json=body)
    assert response.status_code == 200, response.json()
    return [{k: v for k, v in p.items() if k not in ("index", "id")} for p in response.json()["predictions"]]


# ---------------------------------------------------------------- the route is opt-in


def test_without_bigquery_route_on_there_is_no_such_route(make_client, served_model_dir):
    client = make_client(MODEL_DIR=served_model_dir)
    response = client.post("/bigquery", json=envelope([call()]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("value", ["yes", "true", "ON"])
def test_bigquery_route_takes_only_on_or_off(value):
    from soundness_api.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="BIGQUERY_ROUTE must be on or off"):
        Settings.from_env({"BIGQUERY_ROUTE": value})


# ---------------------------------------------------------------- replies


def test_each_call_gets_one_reply_in_order_and_scored_ones_equal_predicts(client):
    calls = [
        call(),  # INT64 arguments within 2^53 arrive as JSON numbers
        call(total_assets="273842119656", revenue="356740019691.00"),  # NUMERIC / BIGNUMERIC: strings
        call(net_income=None),  # SQL NULL
        call(revenue="NaN"),  # FLOAT64 NaN
        call(revenue_prior="Infinity", operating_income="-Infinity"),
        call(revenue_prior=0),  # a statement the ratios cannot use
        call(total_equity=8.7745244191e10),  # FLOAT64
    ]
    status, body = bigquery(client, envelope(calls))
    assert status == 200
    replies = body["replies"]
    assert len(replies) == len(calls)
    scored = [replies[i] for i in (0, 1, 6)]
    assert scored == predicted(
        client,
        {"companies": [LEGACY_STATEMENT, LEGACY_STATEMENT, {**LEGACY_STATEMENT, "total_equity": 8.7745244191e10}]},
    )
    assert {"label", "class", "class_ko", "probability_unsound"} <= set(scored[0])
    assert replies[2]["error"]["details"] == [
        {"index": 2, "field": "net_income", "problem": "must be a number, got null"}
    ]
    # The index is the call's place in a batch BigQuery chose: the arguments say which row it is.
    assert replies[2]["error"]["arguments"] == {**LEGACY_STATEMENT, "net_income": None}
    assert [d["field"] for d in replies[3]["error"]["details"]] == ["revenue"]
    assert "NaN and Infinity are not accepted" in replies[3]["error"]["details"][0]["problem"]
    assert [d["field"] for d in replies[4]["error"]["details"]] == ["revenue_prior", "operating_income"]
    assert replies[5]["error"]["details"][0]["field"] == "revenue_prior"


def test_with_the_ratios_input_calls_carry_the_models_features(client, served_model_dir):
    features = json.loads((served_model_dir / "manifest.json").read_text())["features"]
    values = [[49.9, 34.3, 5.8, 32.0, 1.3][: len(features)], ["12.5", "-3", "7.25", "40", "0.9"][: len(features)]]
    status, body = bigquery(client, envelope(values, {"input": "ratios"}))
    assert status == 200
    assert body["replies"] == predicted(client, {"data": [[float(v) for v in row] for row in values]})


def test_strings_that_are_not_numbers_are_that_rows_error(client):
    status, body = bigquery(client, envelope([call(revenue="12,000"), call()]))
    assert status == 200
    assert body["replies"][0]["error"]["details"][0] == {
        "index": 0,
        "field": "revenue",
        "problem": "must be a number, got a string",
    }
    assert "label" in body["replies"][1]


def test_numeric_strings_are_accepted_on_this_route_only(client):
    response = client.post("/predict", json={"companies": [{**LEGACY_STATEMENT, "revenue": "356740019691"}]})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "revenue"


def test_when_no_call_can_be_scored_each_still_gets_its_error_reply(client):
    status, body = bigquery(client, envelope([call(revenue=None), call(total_assets="NaN")]))
    assert status == 200
    assert [sorted(reply) for reply in body["replies"]] == [["error"], ["error"]]


# ---------------------------------------------------------------- the bundled model: unknown inputs, explanations


@pytest.fixture
def bundled(make_client):
    """The bundled model (version 2): it takes unknown inputs and explains its answers."""
    return make_client(MODEL_DIR=DEFAULT_MODEL, BIGQUERY_ROUTE="on")


def test_a_company_predict_scores_with_unknown_ratios_is_scored_the_same_here(bundled):
    negative_equity = {**LEGACY_STATEMENT, "total_equity": -5e9}
    first_year = {**LEGACY_STATEMENT, "revenue_prior": None}
    status, body = bigquery(bundled, envelope([call(total_equity=-5e9), call(revenue_prior=None), call(revenue="NaN")]))
    assert status == 200
    assert body["replies"][:2] == predicted(bundled, {"companies": [negative_equity, first_year]})
    assert [w["code"] for w in body["replies"][0]["warnings"]][-1] == "unknown_inputs"
    assert list(body["replies"][2]) == ["error"] and body["replies"][2]["error"]["details"][0]["field"] == "revenue"


def test_each_scored_reply_carries_predicts_explanation_adding_up_to_its_log_odds(bundled):
    status, body = bigquery(bundled, envelope([call(), call(total_equity=-5e9), call(revenue=None, net_income="NaN")]))
    assert status == 200
    scored, refused = body["replies"][:2], body["replies"][2]
    assert scored == predicted(bundled, {"companies": [LEGACY_STATEMENT, {**LEGACY_STATEMENT, "total_equity": -5e9}]})
    for reply in scored:
        explanation = reply["explanation"]
        assert explanation["unit"] == "log_odds"
        p = reply["probability_unsound"]
        total = explanation["baseline"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(math.log(p / (1 - p)), abs=1e-6)
    assert list(refused) == ["error"] and refused["error"]["details"][0]["field"] == "net_income"


def test_explain_false_in_the_context_leaves_explanations_out_and_costs_nothing(bundled, rows_explained):
    status, body = bigquery(bundled, envelope([call(), call(revenue="NaN")], {"explain": "false"}))
    assert status == 200 and rows_explained() == 0
    assert body["replies"][0] == predicted(bundled, {"companies": [LEGACY_STATEMENT], "explain": False})[0]
    assert "explanation" not in body["replies"][0] and list(body["replies"][1]) == ["error"]
    status, body = bigquery(bundled, envelope([call()], {"input": "statements", "explain": "true"}))
    assert status == 200 and "explanation" in body["replies"][0] and rows_explained() == 1


def test_the_sql_in_the_docs_reads_every_contribution_of_the_bundled_model_by_its_name(bundled):
    sql = (ROOT / "docs" / "integrations.md").read_text()
    named = re.findall(r"STRUCT\('(\w+)'.*'\$\.explanation\.contributions\.(\w+)'", sql)
    assert [a for a, b in named if a == b] == bundled.get("/model").json()["features"]


@pytest.mark.parametrize("value", [False, "no", "False", "", None, ["false"]], ids=json.dumps)
def test_a_context_explain_other_than_the_strings_true_or_false_is_400_naming_it(bundled, value):
    response = bundled.post("/bigquery", json=envelope([call()], {"explain": value}))
    message = assert_error_message(response, 400, "userDefinedContext explain", '"true", "false"')
    assert "userDefinedContext.explain got " + json.dumps(value) in message


# ---------------------------------------------------------------- whole-request errors


def assert_error_message(response, status: int, *words: str) -> str:
    assert response.status_code == status
    assert len(response.content) < 1024
    body = response.json()
    assert list(body) == ["errorMessage"] and body["errorMessage"]
    for word in words:
        assert word in body["errorMessage"]
    return body["errorMessage"]


def test_no_calls_get_no_replies(client):
    assert bigquery(client, envelope([])) == (200, {"replies": []})


def test_a_call_with_the_wrong_number_of_arguments_is_named_by_its_arguments(client):
    message = assert_error_message(client.post("/bigquery", json=envelope([call(), [1, "x" * 100, None]])), 400)
    assert 'the call [1, "' + "x" * 20 in message and "null]" in message


def test_an_arguments_text_is_repeated_cut_short_in_the_reply(client):
    status, body = bigquery(client, envelope([call(revenue="x" * 500)]))
    assert status == 200 and body["replies"][0]["error"]["arguments"]["revenue"] == "x" * 64 + "…"


def test_a_bug_of_ours_is_500_in_bigquerys_shape(client, monkeypatch):
    import soundness_api.bigquery

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(soundness_api.bigquery, "predictions", broken)
    assert assert_error_message(client.post("/bigquery", json=envelope([call()])), 500) == "internal error"


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_another_method_is_405_in_bigquerys_shape(client, method):
    response = client.request(method, "/bigquery")
    assert_error_message(response, 405, method)
    assert response.headers["Allow"] == "OPTIONS, POST"


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{", ["not valid JSON"]),
        (b"[]", ["calls"]),
        (json.dumps({"requestId": "1"}).encode(), ["calls"]),
        (json.dumps(envelope([[1, 2, 3]])).encode(), ["9 arguments", "total_assets"]),
        (json.dumps(envelope([call()], {"input": "columns"})).encode(), ["userDefinedContext input", '"ratios"']),
        (json.dumps(envelope([call()], {"explain": "no", "mode": "x"})).encode(), ["userDefinedContext", "explain"]),
        (json.dumps(envelope([call()], {"input": "ratios"})).encode(), ["arguments"]),
    ],
)
def test_a_malformed_request_is_400_with_an_error_message(client, raw, words):
    assert_error_message(
        client.post("/bigquery", content=raw, headers={"Content-Type": "application/json"}), 400, *words
    )


def test_the_error_message_stays_under_1_kb_however_much_is_wrong(client):
    response = client.post("/bigquery", json=envelope([["x" * 500] * 3] * 200))
    assert_error_message(response, 400, "arguments")


def test_more_calls_than_max_batch_are_refused_whole(make_client, served_model_dir):
    client = make_client(MODEL_DIR=served_model_dir, BIGQUERY_ROUTE="on", MAX_BATCH=2)
    assert_error_message(client.post("/bigquery", json=envelope([call()] * 3)), 400, "at most 2")
    assert len(bigquery(client, envelope([call()] * 2))[1]["replies"]) == 2


def test_a_model_that_cannot_serve_is_503_which_bigquery_retries(make_client, tmp_path):
    client = make_client(MODEL_DIR=tmp_path / "no-model", BIGQUERY_ROUTE="on")
    assert_error_message(client.post("/bigquery", json=envelope([call()])), 503, "model artifacts cannot be served")


def test_a_body_over_the_limit_is_413_in_bigquerys_shape(make_client, served_model_dir):
    client = make_client(MODEL_DIR=served_model_dir, BIGQUERY_ROUTE="on", MAX_BODY_BYTES=200)
    assert_error_message(client.post("/bigquery", json=envelope([call()] * 5)), 413, "at most 200 bytes")


# ---------------------------------------------------------------- never a way around API keys


def test_with_api_keys_the_route_needs_a_key_and_a_warning_says_bigquery_cannot_send_one(
    make_client, served_model_dir, capfd
):
    capfd.readouterr()
    client = make_client(MODEL_DIR=served_model_dir, BIGQUERY_ROUTE="on", API_KEYS="k1")
    warnings = [json.loads(line) for line in capfd.readouterr().out.splitlines() if "BIGQUERY_ROUTE" in line]
    assert [w["severity"] for w in warnings] == ["WARNING"]
    assert "deploy.sh --bigquery" in warnings[0]["message"]
    assert_error_message(client.post("/bigquery", json=envelope([call()])), 401, "X-API-Key")
    status, body = bigquery(client, envelope([call()]), headers={"X-API-Key": "k1"})
    assert status == 200 and "label" in body["replies"][0]


def test_without_api_keys_no_warning_is_logged(make_client, served_model_dir, capfd):
    capfd.readouterr()
    make_client(MODEL_DIR=served_model_dir, BIGQUERY_ROUTE="on")
    assert "BIGQUERY_ROUTE" not in capfd.readouterr().out


def test_each_call_is_logged_as_one_line_with_its_row_count(client, capfd):
    capfd.readouterr()
    bigquery(client, envelope([call(), call(net_income=None)]))
    line = json.loads(capfd.readouterr().out.splitlines()[-1])
    assert line["httpRequest"]["requestUrl"] == "/bigquery" and line["rows"] == 2
    assert str(LEGACY_STATEMENT["net_income"]) not in json.dumps(line)
