"""KServe's V1 protocol (Vertex AI's predict shape): /v1/models/{name} and /v1/models/{name}:predict.

Instances by feature name or in feature order, answered as /predict answers them, in order,
explanations included unless `"parameters": {"explain": false}`; errors as KServe writes them,
`{"error": "..."}`; any name but the served model's is 404.
"""

import pytest

from helpers import DEFAULT_MODEL, LEGACY_RATIOS, assert_kserve_error


def rows(features) -> list[list[float]]:
    return [LEGACY_RATIOS[: len(features)], [12.5, -3.0, 7.25, 40.0, 0.9][: len(features)]]


def v1_predict(client, name, body, **kwargs):
    response = client.post(f"/v1/models/{name}:predict", json=body, **kwargs)
    return response.status_code, response.json()


def test_the_served_model_says_it_is_ready(client, served_model):
    response = client.get(f"/v1/models/{served_model['name']}")
    assert response.status_code == 200
    assert response.json() == {"name": served_model["name"], "ready": True}


@pytest.mark.parametrize("method, path", [("GET", "/v1/models/other"), ("POST", "/v1/models/other:predict")])
def test_any_other_model_name_is_404(client, served_model, method, path):
    response = client.request(method, path, json={"instances": [LEGACY_RATIOS]})
    assert_kserve_error(response, 404, "'other'", served_model["name"])


def test_instances_by_name_and_in_feature_order_are_answered_as_predict_answers_them(client, served_model, features):
    values = rows(features)
    expected = client.post("/predict", json={"data": values}).json()["predictions"]
    status, body = v1_predict(client, served_model["name"], {"instances": values})
    assert status == 200 and body == {"predictions": expected}
    by_name = [dict(zip(features, row)) for row in values]
    status, body = v1_predict(client, served_model["name"], {"instances": by_name, "parameters": {}})
    assert status == 200
    assert body["predictions"] == client.post("/predict", json={"instances": by_name}).json()["predictions"]
    assert [p["probability_unsound"] for p in body["predictions"]] == [p["probability_unsound"] for p in expected]


def test_a_row_that_cannot_be_scored_gets_its_error_in_place(client, served_model, features):
    good, bad = rows(features)[0], ["x"] * len(features)
    status, body = v1_predict(client, served_model["name"], {"instances": [bad, good]})
    assert status == 200
    assert body["predictions"][0]["error"]["details"][0]["field"] == features[0]
    assert body["predictions"][1]["label"] in (0, 1)


@pytest.mark.parametrize(
    "body, words",
    [
        ({"instances": [["x", 1, 2, 3, 4]]}, ["no row could be scored"]),
        ({"instances": []}, ["instances must be a non-empty array"]),
        ({"instances": [[1, 2, 3, 4, 5]], "inputs": [[1, 2, 3, 4, 5]]}, ["instances", "inputs"]),
        ({"inputs": {"a": [1, 2], "b": [3]}}, ["columnar inputs", "one length"]),
        ({"instances": [[1, 2, 3, 4, 5]], "parameters": [False]}, ["parameters must be an object", "got [false]"]),
        ({"instances": [[1, 2, 3, 4, 5]], "parameters": 0}, ["parameters must be an object", "got 0"]),
        ({"instances": [[1, 2, 3, 4, 5]], "parameters": False}, ["parameters must be an object", "got false"]),
        ({"instances": [[1, 2, 3, 4, 5]], "parameters": ""}, ["parameters must be an object", 'got ""']),
        ({"instances": [[1, 2, 3, 4, 5]], "parameters": {"explain": "false"}}, ["explain must be true or false"]),
        ({"instances": [[1, 2, 3, 4, 5]], "explain": False}, ["explain is not a V1 request field"]),
        ([1, 2], ["instances"]),
    ],
)
def test_a_request_that_cannot_be_used_is_400_naming_the_problem(client, served_model, body, words):
    response = client.post(f"/v1/models/{served_model['name']}:predict", json=body)
    assert_kserve_error(response, 400, *words)


def test_the_bundled_models_predictions_are_explained_unless_the_parameters_say_explain_false(
    make_client, rows_explained
):
    client = make_client(MODEL_DIR=DEFAULT_MODEL)
    name = client.get("/model").json()["model"]["name"]
    status, body = v1_predict(client, name, {"instances": [LEGACY_RATIOS], "parameters": {"explain": False}})
    assert status == 200 and "explanation" not in body["predictions"][0] and rows_explained() == 0
    assert (
        body["predictions"]
        == client.post("/predict", json={"data": [LEGACY_RATIOS], "explain": False}).json()["predictions"]
    )
    status, body = v1_predict(client, name, {"instances": [LEGACY_RATIOS]})
    assert status == 200 and body["predictions"][0]["explanation"]["unit"] == "log_odds" and rows_explained() == 1


def test_malformed_json_is_400_in_kserves_shape(client, served_model):
    response = client.post(
        f"/v1/models/{served_model['name']}:predict", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert_kserve_error(response, 400, "not valid JSON")


def test_predictions_need_the_api_key_when_keys_are_configured(make_client, served_model_dir, served_model):
    client = make_client(MODEL_DIR=served_model_dir, API_KEYS="k1")
    path = f"/v1/models/{served_model['name']}:predict"
    assert_kserve_error(client.post(path, json={"instances": [LEGACY_RATIOS]}), 401, "X-API-Key")
    assert client.post(path, json={"instances": [LEGACY_RATIOS]}, headers={"X-API-Key": "k1"}).status_code == 200


def test_an_unavailable_model_is_503(make_client, tmp_path):
    client = make_client(MODEL_DIR=tmp_path / "no-model")
    assert_kserve_error(client.get("/v1/models/any"), 503, "model artifacts cannot be served")


def test_a_wrong_method_is_405_with_allow(client, served_model):
    response = client.delete(f"/v1/models/{served_model['name']}:predict")
    assert response.status_code == 405 and response.headers["Allow"] == "OPTIONS, POST"


def test_a_callers_own_parameters_are_ignored_and_explain_is_still_read(client, served_model, features):
    values = rows(features)
    expected = client.post("/predict", json={"data": values, "explain": False}).json()["predictions"]
    for parameters in ({"confidence": 0.5, "explain": False}, {"explain": False, "threshold": [1]}):
        status, body = v1_predict(client, served_model["name"], {"instances": values, "parameters": parameters})
        assert status == 200 and body == {"predictions": expected}
    status, body = v1_predict(client, served_model["name"], {"instances": values, "parameters": None})
    assert status == 200 and len(body["predictions"]) == 2


def test_inputs_are_taken_as_instances_are_also_as_columns(client, served_model, features):
    values = rows(features)
    expected = {"predictions": client.post("/predict", json={"data": values}).json()["predictions"]}
    assert v1_predict(client, served_model["name"], {"inputs": values}) == (200, expected)
    by_name = [dict(zip(features, row)) for row in values]
    assert v1_predict(client, served_model["name"], {"inputs": by_name}) == (200, expected)
    # TensorFlow Serving's columnar form: each feature's values, one per row
    columns = {name: [row[i] for row in values] for i, name in enumerate(features[: len(values[0])])}
    assert v1_predict(client, served_model["name"], {"inputs": columns}) == (200, expected)


def test_the_model_list_names_the_served_model(client, served_model):
    response = client.get("/v1/models")
    assert response.status_code == 200 and response.json() == {"models": [served_model["name"]]}


def test_explain_answers_each_instances_explanation_as_predict_gives_it(make_client):
    client = make_client(MODEL_DIR=DEFAULT_MODEL)
    name = client.get("/model").json()["model"]["name"]
    instances = [LEGACY_RATIOS, ["x"] * 5]
    # explain false in the parameters is :predict's; :explain explains whatever they say
    response = client.post(
        f"/v1/models/{name}:explain", json={"instances": instances, "parameters": {"explain": False}}
    )
    assert response.status_code == 200
    predicted = client.post("/predict", json={"data": instances}).json()["predictions"]
    assert response.json() == {
        "explanations": [
            {"index": 0, "id": None, "explanation": predicted[0]["explanation"]},
            {"index": 1, "id": None, "error": predicted[1]["error"]},
        ]
    }
    assert_kserve_error(client.post("/v1/models/other:explain", json={"instances": instances}), 404, "'other'")


def test_a_model_that_cannot_explain_has_no_explainer(make_client, legacy_model_dir):
    client = make_client(MODEL_DIR=legacy_model_dir)
    name = client.get("/model").json()["model"]["name"]
    response = client.post(f"/v1/models/{name}:explain", json={"instances": [LEGACY_RATIOS]})
    assert_kserve_error(response, 404, "does not explain")


@pytest.mark.parametrize(
    "accept, page",
    [
        (None, False),  # KServe's SDK: httpx's default */*
        ("*/*", False),
        ("application/json", False),
        ("application/json, text/plain, */*", False),
        ("text/html;q=0.5, application/json", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", True),  # Chromium
        ("text/html", True),
        ("text/html;q=0", False),
    ],
)
def test_the_root_answers_kserves_liveness_to_programs_and_the_page_to_browsers(client, accept, page):
    response = client.get("/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    if page:
        assert response.headers["content-type"].startswith("text/html")
    else:
        assert response.json() == {"status": "alive"}


@pytest.mark.parametrize(
    "method, path, status",
    [("GET", "/v1/models/{name}/metadata", 404), ("GET", "/v1", 404), ("PUT", "/v1/models", 405)],
)
def test_routes_and_methods_not_offered_are_answered_in_kserves_error_shape(client, served_model, method, path, status):
    assert_kserve_error(client.request(method, path.format(name=served_model["name"])), status)


def test_a_bug_of_ours_is_500_in_kserves_shape(client, served_model, monkeypatch):
    import soundness_api.kserve_v1

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(soundness_api.kserve_v1, "answer", broken)
    response = client.post(f"/v1/models/{served_model['name']}:predict", json={"instances": [LEGACY_RATIOS]})
    assert assert_kserve_error(response, 500) == "internal error"
