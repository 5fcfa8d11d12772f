"""The HTTP API as a client sees it: routes, the three input forms, errors, CORS, logs.

Most tests run the function in-process (functions_framework.aio.create_asgi_app +
starlette's TestClient); the last ones start the real server, as production runs it.
"""

import gzip
import json
import sys
import threading
import time

import pytest
from starlette.testclient import TestClient

from helpers import DEFAULT_MODEL, LEGACY_RATIOS, LEGACY_STATEMENT, mimetype, post_json
from soundness.ratios import STATEMENT_FIELDS

JSON = {"Content-Type": "application/json"}
FEATURES = [
    "revenue_growth_pct",
    "total_asset_growth_pct",
    "operating_margin_pct",
    "equity_ratio_pct",
    "total_asset_turnover",
]


@pytest.fixture
def client(make_client, legacy_model_dir):
    return make_client(MODEL_DIR=legacy_model_dir)


def predict(client, body, **kwargs):
    response = client.post("/predict", json=body, **kwargs)
    return response.status_code, response.json()


def assert_error(response, status, code):
    assert response.status_code == status
    assert mimetype(response) == "application/json"
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# ---------------------------------------------------------------- the three input forms


def test_statement_values_are_turned_into_ratios_and_answered_as_the_legacy_service_did(client):
    status, body = predict(client, {"companies": [{"id": "legacy", **LEGACY_STATEMENT}]})
    assert status == 200
    assert body["model"]["name"] == "predict_model"
    [prediction] = body["predictions"]
    assert prediction["id"] == "legacy" and prediction["index"] == 0
    assert (prediction["label"], prediction["class"], prediction["class_ko"]) == (0, "sound", "건전")
    assert prediction["probability_unsound"] == pytest.approx(0.420, abs=5e-4)
    assert [prediction["ratios"][n] for n in list(prediction["ratios"])[:5]] == pytest.approx(LEGACY_RATIOS)
    assert prediction["ratios"]["debt_ratio_pct"] == pytest.approx(212.0877, abs=1e-3)
    assert prediction["warnings"] == []


def test_model_features_by_name_give_the_same_answer(client):
    status, body = predict(client, {"instances": [{"id": 7, **dict(zip(FEATURES, LEGACY_RATIOS))}]})
    assert status == 200
    assert body["predictions"][0]["id"] == 7
    assert body["predictions"][0]["probability_unsound"] == pytest.approx(0.420, abs=5e-4)


def test_the_legacy_request_form_keeps_working(client):
    status, body = predict(client, {"data": [LEGACY_RATIOS]})
    assert status == 200
    assert body["predictions"][0]["label"] == 0
    assert body["predictions"][0]["probability_unsound"] == pytest.approx(0.420, abs=5e-4)


def test_post_to_the_root_is_a_prediction_too(client):
    response = client.post("/", json={"data": [LEGACY_RATIOS]})
    assert response.status_code == 200 and response.json()["predictions"][0]["label"] == 0


def test_a_batch_is_answered_in_request_order(client):
    rows = [
        {"id": f"c{i}", **LEGACY_STATEMENT, "operating_income": LEGACY_STATEMENT["operating_income"] * m}
        for i, m in enumerate([1, -3, 2])
    ]
    status, body = predict(client, {"companies": rows})
    assert status == 200
    assert [p["id"] for p in body["predictions"]] == ["c0", "c1", "c2"]
    single = [predict(client, {"companies": [row]})[1]["predictions"][0] for row in rows]
    assert [p["probability_unsound"] for p in body["predictions"]] == pytest.approx(
        [p["probability_unsound"] for p in single], abs=1e-6
    )  # float32 kernels differ by batch size


def test_an_unbalanced_statement_is_answered_with_a_warning(client):
    status, body = predict(client, {"companies": [{**LEGACY_STATEMENT, "total_equity": 1}]})
    assert status == 200
    assert body["predictions"][0]["warnings"][0]["code"] == "balance_mismatch"


# ---------------------------------------------------------------- partial and whole failures


def test_invalid_rows_get_their_errors_in_place_and_the_others_are_answered(client):
    rows = [LEGACY_STATEMENT, {**LEGACY_STATEMENT, "revenue_prior": 0}, {**LEGACY_STATEMENT, "revenue": "lots"}]
    status, body = predict(client, {"companies": rows})
    assert status == 200
    ok, zero, text = body["predictions"]
    assert ok["label"] == 0
    assert zero["index"] == 1 and zero["error"]["details"] == [
        {"index": 1, "field": "revenue_prior", "problem": "must be greater than 0 to compute revenue_growth_pct"}
    ]
    assert text["error"]["details"][0]["field"] == "revenue"
    assert "got a string" in text["error"]["details"][0]["problem"]


def test_when_no_row_can_be_answered_the_request_fails_naming_each_row_and_field(client):
    rows = [{**LEGACY_STATEMENT, "total_assets": 0}, {k: v for k, v in LEGACY_STATEMENT.items() if k != "net_income"}]
    response = client.post("/predict", json={"companies": rows})
    error = assert_error(response, 422, "invalid_input")
    assert {(d["index"], d["field"]) for d in error["details"]} == {(0, "total_assets"), (1, "net_income")}


@pytest.mark.parametrize(
    "body, field, problem",
    [
        ({"companies": [{**LEGACY_STATEMENT, "net_income": None}]}, "net_income", "must be a number, got null"),
        ({"companies": [{**LEGACY_STATEMENT, "net_income": True}]}, "net_income", "must be a number, got a boolean"),
        ({"companies": [{**LEGACY_STATEMENT, "id": ["x"]}]}, "id", "must be a string"),
        ({"instances": [{"revenue_growth_pct": 1}]}, "total_asset_growth_pct", "is required"),
        ({"data": [[1, 2, 3]]}, None, "must be an array of 5 numbers"),
        ({"data": [[1, 2, 3, 4, "5"]]}, "total_asset_turnover", "must be a number"),
    ],
)
def test_invalid_content_is_422_naming_the_field(client, body, field, problem):
    error = assert_error(client.post("/predict", json=body), 422, "invalid_input")
    assert any(d["field"] == field and problem in d["problem"] for d in error["details"]), error


def test_an_unknown_field_refuses_the_request_naming_the_key_once_with_its_first_row(client):
    rows = [LEGACY_STATEMENT, {**LEGACY_STATEMENT, "surplus": 1}, {**LEGACY_STATEMENT, "surplus": 2, "extra": 3}]
    error = assert_error(client.post("/predict", json={"companies": rows}), 422, "unknown_field")
    assert "expected: total_assets" in error["message"]
    assert error["details"] == [
        {"index": 1, "field": "surplus", "problem": "is not a known field (in 2 rows)"},
        {"index": 2, "field": "extra", "problem": "is not a known field (in 1 row)"},
    ]


def test_a_denominator_too_close_to_zero_is_named_once_with_the_ratios_it_breaks(make_client, legacy_model_dir):
    # A model that needs every input (the legacy service's): equity ratio and turnover both divide by total_assets
    client = make_client(MODEL_DIR=legacy_model_dir)
    error = assert_error(
        client.post("/predict", json={"companies": [{**LEGACY_STATEMENT, "total_assets": 1e-320}]}),
        422,
        "invalid_input",
    )
    assert error["details"] == [
        {
            "index": 0,
            "field": "total_assets",
            "problem": "is too close to 0 to compute equity_ratio_pct and total_asset_turnover",
        }
    ]


@pytest.mark.parametrize(
    "given, problem",
    [
        ("Acme\u202eexe.txt", "U+202E at position 4"),  # right-to-left override: shows as "Acmetxt.exe"
        ("a\u2066b", "U+2066 at position 1"),
        ("line\nbreak", "U+000A at position 4"),
        ("bell\x07", "U+0007 at position 4"),
        ("c1\x85", "U+0085 at position 2"),
    ],
)
def test_ids_with_control_or_bidirectional_formatting_characters_are_refused(client, given, problem):
    status, body = predict(client, {"companies": [{"id": given, **LEGACY_STATEMENT}, {"id": "ok", **LEGACY_STATEMENT}]})
    assert status == 200
    refused, answered = body["predictions"]
    assert refused["id"] is None  # never echoed
    assert refused["error"]["details"][0]["field"] == "id" and problem in refused["error"]["details"][0]["problem"]
    assert answered["id"] == "ok" and "label" in answered


@pytest.mark.parametrize(
    "given, accepted",
    [
        (2**53 - 1, True),
        (-(2**53 - 1), True),
        (2**53, False),
        (-(2**53), False),
        (10**30, False),
        ("9007199254740993", True),
        ("회사 (주)", True),
        ("Zürich AG", True),
    ],
)
def test_integer_ids_must_be_exact_in_javascript_and_larger_ones_come_as_strings(client, given, accepted):
    status, body = predict(client, {"instances": [{"id": given, **dict(zip(FEATURES, LEGACY_RATIOS))}]})
    if accepted:
        assert status == 200 and body["predictions"][0]["id"] == given
    else:
        assert status == 422
        assert "send a larger id as a string" in body["error"]["details"][0]["problem"]


def test_a_ratio_outside_the_training_range_is_warned_naming_the_ratio_and_the_range(make_client):
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text())
    turnover = manifest["feature_quantiles"]["total_asset_turnover"]
    client = make_client()
    # The balance sheet in 백만원, the income statement in won: turnover becomes about 1.3e6.
    mixed = {
        **LEGACY_STATEMENT,
        **{
            k: LEGACY_STATEMENT[k] / 1e6
            for k in ("total_assets", "total_assets_prior", "total_liabilities", "total_equity")
        },
    }
    status, body = predict(client, {"companies": [LEGACY_STATEMENT, mixed]})
    assert status == 200
    plain, warned = body["predictions"]
    assert [w["code"] for w in plain["warnings"]] == []
    # turnover among them (other ratios of the mixed statement may be far out too)
    [warning] = [
        w
        for w in warned["warnings"]
        if w["code"] == "outside_training_range" and w["fields"] == ["total_asset_turnover"]
    ]
    assert warning["value"] == pytest.approx(1.3027e6, rel=1e-3)
    assert warning["range"] == [turnover["values"][0], turnover["values"][-1]]
    assert warning["quantiles"] == [turnover["q"][0], turnover["q"][-1]]
    assert "total_asset_turnover" in warning["message"] and "98% of the training companies" in warning["message"]


def test_each_input_form_warns_about_each_ratio_outside_the_training_range(make_client):
    client = make_client()
    low = [-1e6, 0.0, 0.0, 50.0, 1.0]  # revenue growth of -1e6 %: below anything trained on
    high = [0.0, 0.0, 0.0, 1e5, 1e4]
    status, body = predict(client, {"data": [low, high, [5.0, 5.0, 5.0, 50.0, 1.0]]})
    assert status == 200
    assert [
        [w["fields"][0] for w in p["warnings"] if w["code"] == "outside_training_range"] for p in body["predictions"]
    ] == [["revenue_growth_pct"], ["equity_ratio_pct", "total_asset_turnover"], []]


def test_the_same_company_in_any_unit_gets_the_same_answer_and_warnings(make_client):
    unbalanced = {**LEGACY_STATEMENT, "total_equity": LEGACY_STATEMENT["total_equity"] * 1.05}  # a 1.7 % gap
    units = [1, 1e3, 1e6, 1e12, 1e15]  # 원, 천원, 백만원, 조원, 1e15
    rows = [
        {k: v / unit for k, v in statement.items()} for statement in (LEGACY_STATEMENT, unbalanced) for unit in units
    ]
    status, body = predict(make_client(), {"companies": rows})
    assert status == 200
    for same_company in (body["predictions"][:5], body["predictions"][5:]):
        first = same_company[0]
        for answer in same_company[1:]:
            assert answer["label"] == first["label"] and answer["warnings"] == first["warnings"]
            assert answer["probability_unsound"] == pytest.approx(first["probability_unsound"], rel=1e-6)
            assert answer["ratios"] == pytest.approx(first["ratios"], rel=1e-9)
    assert [w["code"] for w in body["predictions"][5]["warnings"]] == ["balance_mismatch"]


def test_nan_and_infinity_are_refused_with_the_field_named(client):
    raw = '{"data": [[NaN, 1, 2, 3, Infinity]]}'
    error = assert_error(client.post("/predict", content=raw, headers=JSON), 422, "invalid_input")
    assert [d["field"] for d in error["details"]] == ["revenue_growth_pct", "total_asset_turnover"]


def test_numbers_too_large_for_a_float_are_refused(client):
    raw = '{"data": [[1e400, 1, 2, 3, 4]]}'
    error = assert_error(client.post("/predict", content=raw, headers=JSON), 422, "invalid_input")
    assert error["details"][0]["field"] == "revenue_growth_pct"


@pytest.mark.parametrize("body", [{}, {"rows": []}, {"data": [[1] * 5], "instances": []}, [1, 2]])
def test_a_body_in_no_known_form_is_422(client, body):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] in ("unknown_input_form", "invalid_request")


def test_more_rows_than_max_batch_are_refused_whole(make_client, legacy_model_dir):
    client = make_client(MODEL_DIR=legacy_model_dir, MAX_BATCH=2)
    error = assert_error(client.post("/predict", json={"data": [LEGACY_RATIOS] * 3}), 422, "too_many_rows")
    assert error["details"] == [{"field": "data", "problem": "has 3 rows; the limit is 2"}]


@pytest.mark.parametrize(
    "raw, code",
    [
        ("", "malformed_json"),
        ("{", "malformed_json"),
        ('{"data": [[1,2,3,4,5]], "data": []}', "malformed_json"),
        ("[" * 100000, "malformed_json"),
    ],
)
def test_malformed_json_is_400(client, raw, code):
    assert_error(client.post("/predict", content=raw, headers=JSON), 400, code)


def test_a_body_that_is_not_declared_json_is_415(client):
    error = assert_error(
        client.post("/predict", content="a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        415,
        "unsupported_media_type",
    )
    assert error["details"][0]["field"] == "Content-Type"


def test_a_gzip_body_is_answered_as_the_plain_one(client):
    plain = json.dumps({"data": [LEGACY_RATIOS]}).encode()
    zipped = client.post("/predict", content=gzip.compress(plain), headers={**JSON, "Content-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.json() == client.post("/predict", content=plain, headers=JSON).json()


def test_a_gzip_body_is_bounded_after_decompression_too(make_client, legacy_model_dir):
    client = make_client(MODEL_DIR=legacy_model_dir, MAX_BODY_BYTES=2000)
    bomb = gzip.compress(b" " * 1_000_000 + json.dumps({"data": [LEGACY_RATIOS]}).encode())
    assert len(bomb) < 2000
    assert_error(
        client.post("/predict", content=bomb, headers={**JSON, "Content-Encoding": "gzip"}), 413, "payload_too_large"
    )
    assert_error(
        client.post("/predict", content=b"not gzip", headers={**JSON, "Content-Encoding": "gzip"}),
        400,
        "malformed_body",
    )


@pytest.mark.parametrize("coding", ["br", "deflate", "compress", "gzip, br", "x-gzip"])
def test_a_content_coding_other_than_gzip_is_415(client, coding):
    response = client.post("/predict", json={"data": [LEGACY_RATIOS]}, headers={"Content-Encoding": coding})
    assert assert_error(response, 415, "unsupported_content_encoding")["details"][0]["field"] == "Content-Encoding"


@pytest.mark.parametrize("charset", ["utf-16", "latin-1", "UTF-32", '"iso-8859-1"'])
def test_a_charset_other_than_utf_8_is_415(client, charset):
    body = json.dumps({"data": [LEGACY_RATIOS]}).encode()
    response = client.post("/predict", content=body, headers={"Content-Type": f"application/json; charset={charset}"})
    assert_error(response, 415, "unsupported_charset")
    for utf8 in ("utf-8", "UTF-8", '"utf-8"', "utf8"):
        headers = {"Content-Type": f"application/json; charset={utf8}"}
        assert client.post("/predict", content=body, headers=headers).status_code == 200


def test_a_body_over_the_size_limit_is_413(make_client, legacy_model_dir):
    client = make_client(MODEL_DIR=legacy_model_dir, MAX_BODY_BYTES=100)
    assert_error(client.post("/predict", json={"data": [LEGACY_RATIOS] * 10}), 413, "payload_too_large")


def test_unknown_routes_are_404_and_wrong_methods_405_with_allow(client):
    assert_error(client.get("/nowhere"), 404, "not_found")
    response = client.delete("/predict")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "OPTIONS, POST"


# ---------------------------------------------------------------- health, readiness, model facts


def test_health_answers_without_loading_the_model(client, model_loads):
    assert client.get("/health").json() == {"status": "ok", "model_loaded": False}
    assert model_loads() == 0


def test_ready_loads_the_model_and_then_health_says_so(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["model"]["name"] == "predict_model"
    assert client.get("/health").json()["model_loaded"] is True


def test_a_broken_artifact_keeps_the_server_up_and_says_why(make_client, small_model_dir, model_loads):
    (small_model_dir / "model.safetensors").write_bytes(b"tampered")
    client = make_client(MODEL_DIR=small_model_dir)
    assert client.get("/health").status_code == 200
    error = assert_error(client.get("/ready"), 503, "model_unavailable")
    assert "model.safetensors does not match its sha256" in error["message"]
    assert_error(client.post("/predict", json={"data": [LEGACY_RATIOS]}), 503, "model_unavailable")
    assert model_loads() == 1  # the failure is remembered, not retried per request


def test_a_missing_model_directory_is_503_not_500(make_client, tmp_path):
    client = make_client(MODEL_DIR=tmp_path / "nothing-here")
    assert_error(client.get("/ready"), 503, "model_unavailable")


def test_model_facts_are_the_public_part_of_the_manifest(client):
    facts = client.get("/model").json()
    assert facts["features"][0] == "revenue_growth_pct"
    assert facts["feature_labels"]["equity_ratio_pct"] == {"ko": "자기자본비율", "en": "Equity ratio (%)"}
    assert facts["decision"]["threshold"] == 0.5
    assert "files" not in facts and "network" not in facts
    assert facts["max_batch"] == 1000  # MAX_BATCH: the page splits a CSV into requests of this size


@pytest.mark.parametrize("model, takes_unknowns", [("bundled", True), ("legacy", False)])
def test_model_facts_say_whether_a_field_left_out_is_scored_as_unknown_or_refused(
    make_client, legacy_model_dir, model, takes_unknowns
):
    """The page sends a blank field as null only when GET /model says so; what it says is what /predict does."""
    client = make_client(MODEL_DIR=DEFAULT_MODEL if model == "bundled" else legacy_model_dir)
    assert client.get("/model").json()["accepts_unknown_inputs"] is takes_unknowns
    status, body = predict(client, {"companies": [{**LEGACY_STATEMENT, "revenue_prior": None}]})
    if takes_unknowns:
        assert status == 200 and "unknown_inputs" in [w["code"] for w in body["predictions"][0]["warnings"]]
    else:
        assert status == 422 and body["error"]["details"][0]["field"] == "revenue_prior"


def test_model_facts_name_the_statement_fields_and_the_classes_in_korean_and_english(client):
    """The page's form labels, CSV headers and class words come from here, not from a copy."""
    facts = client.get("/model").json()
    assert list(facts["statement_labels"]) == list(STATEMENT_FIELDS)
    assert facts["statement_labels"] == STATEMENT_FIELDS
    assert [(c["name"], c["ko"]) for c in facts["classes"]] == [("sound", "건전"), ("unsound", "비건전")]


@pytest.mark.parametrize(
    "env",
    [{}, {"BIGQUERY_ROUTE": "on"}, {"AIP_HEALTH_ROUTE": "/vertex/health", "AIP_PREDICT_ROUTE": "/vertex/predict"}],
    ids=["plain", "bigquery", "vertex"],
)
def test_the_documents_paths_and_methods_are_the_routers(make_client, served_model_dir, env):
    client = make_client(MODEL_DIR=served_model_dir, **env)
    document = client.get("/openapi.json").json()
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert documented == sys.modules["main"].service.router.routes()
    operations = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    assert len(operations) == len(set(operations))
    assert set(document["paths"]["/predict"]["post"]["responses"]) >= {"200", "400", "413", "415", "422", "503"}


def test_the_openapi_document_is_served(client):
    assert client.get("/openapi.json").json()["info"]["title"]


# ---------------------------------------------------------------- CORS, loading once, logs


def test_a_preflight_is_answered_for_an_allowed_origin(make_client, legacy_model_dir):
    client = make_client(MODEL_DIR=legacy_model_dir, ALLOWED_ORIGINS="https://app.example")
    response = client.options(
        "/predict", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_by_default_every_origin_may_call(client):
    response = client.post("/predict", json={"data": [LEGACY_RATIOS]}, headers={"Origin": "https://x.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_concurrent_first_requests_load_the_model_exactly_once(client, model_loads):
    barrier = threading.Barrier(16)
    answers = []

    def first_request():
        barrier.wait()
        answers.append(predict(TestClient(client.app), {"data": [LEGACY_RATIOS]}))

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert model_loads() == 1
    assert {status for status, _ in answers} == {200}
    assert len({body["predictions"][0]["probability_unsound"] for _, body in answers}) == 1


def test_each_request_logs_one_structured_line_without_statement_values(client, capfd):
    capfd.readouterr()
    client.post(
        "/predict", json={"companies": [LEGACY_STATEMENT]}, headers={"X-Cloud-Trace-Context": "0123456789abcdef/1;o=1"}
    )
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    request_line = lines[-1]
    assert request_line["severity"] == "INFO"
    assert request_line["httpRequest"]["status"] == 200 and request_line["rows"] == 1
    assert request_line["model_version"] == "imported"
    assert request_line["logging.googleapis.com/trace"].endswith("0123456789abcdef")
    assert str(LEGACY_STATEMENT["net_income"]) not in json.dumps(lines)


def test_a_path_with_unicode_line_separators_still_logs_one_line(client, capfd):
    capfd.readouterr()
    client.get("/nowhere\u2028and\x85more")
    (line,) = capfd.readouterr().out.splitlines()
    assert json.loads(line)["httpRequest"]["requestUrl"] == "/nowhere\u2028and\x85more"


def test_a_log_field_holding_a_lone_surrogate_is_written_escaped_not_lost(capfd):
    from soundness_api import logs

    capfd.readouterr()
    logs.emit("WARNING", "odd text", problem="\ud800 from a client")
    (line,) = capfd.readouterr().out.splitlines()
    assert line.isascii() and json.loads(line)["problem"] == "\ud800 from a client"


def test_a_served_request_logs_its_line_at_once_not_when_a_buffer_fills(start_server):
    # Lines written in one turn of the event loop are flushed together after it (soundness_api/logs.py).
    server = start_server()
    post_json(server.url + "/predict", {"companies": [LEGACY_STATEMENT]})
    deadline = time.monotonic() + 5
    while not [line for line in server.log_lines() if line["message"] == "POST /predict 200"]:
        assert time.monotonic() < deadline, "the request's log line did not reach stdout"
        time.sleep(0.01)


# ---------------------------------------------------------------- the bundled model, a real server


def test_without_configuration_the_bundled_model_is_served(make_client):
    if not (DEFAULT_MODEL / "manifest.json").exists():
        pytest.fail("artifacts/default is missing: the bundled model must be committed")
    client = make_client()
    status, body = predict(client, {"companies": [LEGACY_STATEMENT]})
    assert status == 200
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text())
    assert body["model"] == {"name": manifest["model"]["name"], "version": manifest["model"]["version"]}
    assert 0 <= body["predictions"][0]["probability_unsound"] <= 1


@pytest.mark.server
def test_the_real_server_answers_like_the_test_client(start_server, legacy_model_dir):
    server = start_server({"MODEL_DIR": str(legacy_model_dir)})
    status, body, headers = post_json(server.url + "/predict", {"companies": [LEGACY_STATEMENT]})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert body["predictions"][0]["probability_unsound"] == pytest.approx(0.420, abs=5e-4)
    status, body, _ = post_json(server.url + "/predict", b"{oops")
    assert status == 400 and body["error"]["code"] == "malformed_json"
