"""Who may call what: CORS, API keys, the page's security headers, static files that stay
inside their folder, and logs and errors that keep secrets and private values out."""

import hmac
import json

import pytest

from helpers import ROOT, assert_error_shape, post_json

from .raw_http import exchange

ALLOWED = "https://a.example"
KEYS = "k1,k2"


def row(n: int) -> dict:
    return {"data": [[1.0] * n]}


@pytest.fixture
def cors_client(make_client, served_model_dir):
    return make_client(MODEL_DIR=served_model_dir, ALLOWED_ORIGINS=ALLOWED)


@pytest.fixture
def keyed_client(make_client, served_model_dir):
    return make_client(MODEL_DIR=served_model_dir, API_KEYS=KEYS)


def preflight(client, origin: str, path: str = "/predict"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key",
        },
    )


# ---------------------------------------------------------------- CORS


def test_an_allowed_origin_gets_a_full_preflight_answer(cors_client):
    response = preflight(cors_client, ALLOWED)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed_headers and "x-api-key" in allowed_headers
    assert "Origin" in response.headers.get_list("Vary")


def test_an_allowed_origin_can_read_answers_and_errors(cors_client, served_features):
    for response in (
        cors_client.post("/predict", json=row(len(served_features)), headers={"Origin": ALLOWED}),
        cors_client.post("/predict", json={}, headers={"Origin": ALLOWED}),
        cors_client.get("/nowhere", headers={"Origin": ALLOWED}),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert "Origin" in response.headers.get_list("Vary")


@pytest.mark.parametrize(
    "origin",
    [
        "https://b.example",
        "https://a.example.evil.example",
        "http://a.example",
        "https://evil.a.example",
        "null",
        "https://A.EXAMPLE.",
        "",
    ],
)
def test_any_other_origin_gets_no_cors_grant(cors_client, served_features, origin):
    answer = cors_client.post("/predict", json=row(len(served_features)), headers={"Origin": origin})
    for response in (preflight(cors_client, origin), answer):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Methods" not in response.headers


def test_by_default_any_origin_may_call(make_client, served_model_dir, served_features):
    client = make_client(MODEL_DIR=served_model_dir)
    assert preflight(client, "https://x.example").headers["Access-Control-Allow-Origin"] == "*"
    answer = client.post("/predict", json=row(len(served_features)), headers={"Origin": "https://x.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


# ---------------------------------------------------------------- API keys


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "k3"},
        {"X-API-Key": "K1"},
        {"X-API-Key": "k1,k2"},
        {"X-API-Key": "k"},
        {"X-API-Key": "k1k2"},
        {"Authorization": "Bearer k1"},
    ],
)
def test_predictions_without_a_matching_key_are_401_json(keyed_client, served_features, headers):
    for path in ("/predict", "/"):
        response = keyed_client.post(path, json=row(len(served_features)), headers=headers)
        assert response.status_code == 401
        assert_error_shape(response.json())
        assert response.json()["error"]["code"] == "unauthorized"
        if headers.get("X-API-Key"):
            assert headers["X-API-Key"] not in response.text


@pytest.mark.parametrize("key", ["k1", "k2"])
def test_each_configured_key_opens_predictions(keyed_client, served_features, key):
    response = keyed_client.post("/predict", json=row(len(served_features)), headers={"X-API-Key": key})
    assert response.status_code == 200


def test_the_key_is_checked_before_the_body_is_even_read(make_client, served_model_dir):
    client = make_client(MODEL_DIR=served_model_dir, API_KEYS=KEYS, MAX_BODY_BYTES=10)
    assert client.post("/predict", content=b"x" * 100, headers={"Content-Type": "text/plain"}).status_code == 401


@pytest.mark.parametrize("path", ["/health", "/ready", "/model", "/openapi.json", "/"])
def test_health_readiness_model_facts_the_document_and_the_page_stay_open(keyed_client, path):
    assert keyed_client.get(path).status_code == 200


def test_a_preflight_needs_no_key_since_browsers_never_send_one(make_client, served_model_dir):
    client = make_client(MODEL_DIR=served_model_dir, API_KEYS=KEYS, ALLOWED_ORIGINS=ALLOWED)
    assert preflight(client, ALLOWED).status_code == 204


def test_the_document_says_predictions_need_a_key_only_when_keys_are_set(keyed_client, make_client, served_model_dir):
    assert keyed_client.get("/openapi.json").json()["paths"]["/predict"]["post"]["security"]
    plain = make_client(MODEL_DIR=served_model_dir).get("/openapi.json").json()
    assert "security" not in plain["paths"]["/predict"]["post"]


@pytest.mark.parametrize("given", ["k1", "k2", "wrong", ""])
def test_keys_are_compared_in_constant_time_against_every_configured_key(
    keyed_client, served_features, monkeypatch, given
):
    compared = []
    real = hmac.compare_digest

    def recording(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    keyed_client.post("/predict", json=row(len(served_features)), headers={"X-API-Key": given})
    assert sorted(compared) == [b"k1", b"k2"]  # no early exit on the first match, no plain ==


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/style.css"])
def test_the_page_and_its_files_carry_security_headers(keyed_client, path):
    response = keyed_client.get(path, headers={"Accept": "text/html"})  # as a browser asks (not: KServe V1's liveness)
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/../main.py",
        "/../function/main.py",
        "/%2e%2e/function/main.py",
        "/%2e%2e%2ffunction%2fmain.py",
        "/..%2ffunction%2fmain.py",
        "/.%2e/function/main.py",
        "/%252e%252e/function/main.py",
        "/..\\function\\main.py",
        "/....//function/main.py",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/etc/passwd",
        "/proc/self/environ",
        "/index.html%00.js",
        "/../../../../../../etc/hosts",
        "/frontend/../pyproject.toml",
        "/.git/config",
        "/.env",
        "/app.js/..%2f..%2fpyproject.toml",
    ],
)
def test_paths_that_reach_outside_the_page_folder_are_404(keyed_client, path):
    response = keyed_client.get(path)
    assert response.status_code == 404
    assert_error_shape(response.json())


@pytest.mark.server
def test_raw_dot_dot_request_targets_on_a_real_server_are_404(warm_server):
    for target in (
        "/../function/main.py",
        "/%2e%2e/function/main.py",
        "/..%2f..%2fetc%2fpasswd",
        "/static/../../pyproject.toml",
    ):
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        status, _, body = exchange(warm_server.port, request)
        assert status == 404, target
        assert b"import" not in body and b"root:" not in body


# ---------------------------------------------------------------- nothing private in logs or errors


@pytest.mark.server
def test_logs_and_errors_never_show_statement_values_keys_or_paths(serve, served_model_dir, served_features):
    key, wrong = "key-7Hq2-secret", "guess-9Zx4-wrong"
    server = serve(MODEL_DIR=served_model_dir, API_KEYS=key)
    statement = {
        "total_assets": 918273645.5,
        "total_assets_prior": 817263544.25,
        "total_liabilities": 716253443.75,
        "total_equity": 202020201.75,
        "revenue": 615243342.5,
        "revenue_prior": 514233241.5,
        "operating_income": 41322314.5,
        "operating_income_prior": 31222313.5,
        "net_income": 21122312.5,
    }
    sent = [
        (statement, key),
        ({"companies": [{**statement, "revenue_prior": 0}]}, key),
        (row(len(served_features)), wrong),
        (b'{"companies": [918273645.5, ', key),
        ({"instances": [{"revenue_growth_pct": 918273645.5, "secret_field_8812": 1}]}, key),
    ]
    bodies = []
    for body, given in sent:
        payload = {"companies": [body]} if body is statement else body
        status, answer, _ = post_json(server.url + "/predict", payload, {"X-API-Key": given})
        bodies.append(json.dumps(answer))
        assert status in (200, 400, 401, 422)
    output = server.stop()
    assert len([line for line in output.splitlines() if line.startswith("{")]) >= len(sent)
    private = ["918273645", "817263544", "21122312", key, wrong, str(ROOT), "/work", "/tmp", str(served_model_dir)]
    for text in private:
        assert text not in output, text
    for text in private[2:]:
        assert not any(text in body for body in bodies), text
