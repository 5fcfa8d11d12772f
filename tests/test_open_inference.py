"""The Open Inference Protocol (KServe V2): health, metadata and inference under /v2.

Inputs as the metadata says (one FP32/FP64 tensor `features` [N, F], or one [N] tensor per
feature), flat or nested; outputs probability_unsound (FP64) and label (INT64), equal to
/predict's, and from a model that explains, /predict's explanation as contributions (FP64 [N, F],
in feature order) and baseline (FP64 [N]), computed only when wanted; the request id echoed;
errors `{"error": "..."}`. Checked with the protocol's own examples and with Triton's Python
client against a real server.
"""

import json
import math

import pytest

from helpers import DEFAULT_MODEL, LEGACY_RATIOS, LEGACY_STATEMENT, assert_kserve_error, post_json

SECOND_ROW = [12.5, -3.0, 7.25, 40.0, 0.9]


@pytest.fixture
def served_model_dir(legacy_model_dir):
    """The protocol is tested on the legacy five-ratio model, which needs every input: its tensors here have five columns."""
    return legacy_model_dir


@pytest.fixture
def served_model(served_model_dir) -> dict:
    return json.loads((served_model_dir / "manifest.json").read_text())["model"]


@pytest.fixture
def infer_path(served_model) -> str:
    return f"/v2/models/{served_model['name']}/infer"


def matrix(rows, datatype="FP64", name="features") -> dict:
    return {"name": name, "datatype": datatype, "shape": [len(rows), len(rows[0])], "data": rows}


def predicted(client, rows) -> dict[str, list]:
    answers = client.post("/predict", json={"data": rows}).json()["predictions"]
    return {"probability_unsound": [a["probability_unsound"] for a in answers], "label": [a["label"] for a in answers]}


def outputs(body) -> dict[str, list]:
    return {o["name"]: o["data"] for o in body["outputs"]}


# ---------------------------------------------------------------- health and metadata


def test_liveness_never_loads_the_model_and_readiness_does(client, model_loads):
    assert client.get("/v2/health/live").status_code == 200
    assert model_loads() == 0
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/health").json()["model_loaded"] is True


def test_server_metadata_names_no_extensions(client):
    body = client.get("/v2").json()
    assert set(body) == {"name", "version", "extensions"} and body["extensions"] == []


def test_model_metadata_describes_the_tensors_it_takes_and_gives(client, served_model, features):
    for path in (
        f"/v2/models/{served_model['name']}",
        f"/v2/models/{served_model['name']}/versions/{served_model['version']}",
    ):
        body = client.get(path).json()
        assert body["name"] == served_model["name"] and body["versions"] == [served_model["version"]]
        assert body["platform"] == ""  # the spec's platforms name frameworks; ours is none of them
        assert body["inputs"] == [
            {
                "name": "features",
                "datatype": "FP64",
                "shape": [-1, len(features)],
                "parameters": {"features": features, "datatypes": ["FP32", "FP64"], "accepts_unknown": False},
            }
        ]
        assert body["outputs"] == [  # this model cannot explain its answers: no explanation outputs
            {"name": "probability_unsound", "datatype": "FP64", "shape": [-1]},
            {"name": "label", "datatype": "INT64", "shape": [-1]},
        ]
        # The other form, one tensor per feature; no unknown mask, as this model needs every input.
        assert body["parameters"] == {
            "per_feature_inputs": [
                {"name": name, "datatype": "FP64", "shape": [-1, 1], "parameters": {"shapes": [[-1], [-1, 1]]}}
                for name in features
            ]
        }


def test_the_served_model_and_version_are_ready_and_others_are_404(client, served_model):
    name, version = served_model["name"], served_model["version"]
    for path in (f"/v2/models/{name}/ready", f"/v2/models/{name}/versions/{version}/ready"):
        response = client.get(path)
        assert response.status_code == 200 and response.json() == {"name": name, "ready": True}
    assert_kserve_error(client.get("/v2/models/other/ready"), 404, "'other'")
    assert_kserve_error(client.get(f"/v2/models/{name}/versions/0.0.9/ready"), 404, "'0.0.9'", version)
    assert_kserve_error(client.post(f"/v2/models/{name}/versions/0.0.9/infer", json={}), 404, "'0.0.9'")


def test_without_a_model_readiness_is_503_and_liveness_200(make_client, tmp_path):
    client = make_client(MODEL_DIR=tmp_path / "no-model")
    assert client.get("/v2/health/live").status_code == 200
    assert_kserve_error(client.get("/v2/health/ready"), 503, "model artifacts cannot be served")


# ---------------------------------------------------------------- inference


def test_a_matrix_flat_or_nested_fp32_or_fp64_is_answered_as_predict_answers(client, infer_path, features):
    rows = [LEGACY_RATIOS[: len(features)], SECOND_ROW[: len(features)]]
    expected = predicted(client, rows)
    flat = [value for row in rows for value in row]
    for tensor in (matrix(rows), matrix(rows, "FP32"), {**matrix(rows), "data": flat}):
        response = client.post(infer_path, json={"id": "42", "inputs": [tensor]})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["id"] == "42" and body["model_name"] == infer_path.split("/")[3]
        assert outputs(body) == expected
        assert [(o["name"], o["datatype"], o["shape"]) for o in body["outputs"]] == [
            ("probability_unsound", "FP64", [2]),
            ("label", "INT64", [2]),
        ]


def test_one_tensor_per_feature_is_the_same_as_the_matrix(client, infer_path, features):
    rows = [LEGACY_RATIOS[: len(features)], SECOND_ROW[: len(features)]]
    columns = [
        {"name": name, "datatype": "FP32", "shape": [2], "data": [row[i] for row in rows]}
        for i, name in reversed(list(enumerate(features)))
    ]  # in any order: names place them
    body = client.post(infer_path, json={"inputs": columns}).json()
    assert outputs(body) == predicted(client, rows) and "id" not in body
    # MLServer's PandasCodec: one [N, 1] column per feature, flat or nested
    for data in (lambda c: c, lambda c: [[v] for v in c]):
        pandas = [{**column, "shape": [2, 1], "data": data(column["data"])} for column in columns]
        assert outputs(client.post(infer_path, json={"inputs": pandas}).json()) == predicted(client, rows)
    mixed = [{**columns[0], "shape": [2, 1]}, *columns[1:]]
    assert_kserve_error(client.post(infer_path, json={"inputs": mixed}), 400, "the same shape, [N] or [N, 1]")


def test_requested_outputs_are_the_only_ones_returned(client, infer_path, features):
    body = client.post(
        infer_path,
        json={
            "inputs": [matrix([LEGACY_RATIOS[: len(features)]])],
            "outputs": [{"name": "label", "parameters": {"binary_data": False}}],
            "parameters": {"binary_data_output": False},
        },
    ).json()
    assert [o["name"] for o in body["outputs"]] == ["label"]
    for wrong in ([{"name": {}}], [{"name": "label", "parameters": 1}], "label", [], [{"name": "contributions"}]):
        assert_kserve_error(
            client.post(infer_path, json={"inputs": [matrix([LEGACY_RATIOS[: len(features)]])], "outputs": wrong}),
            400,
            "outputs",
        )


def test_the_protocols_own_example_request_is_refused_for_this_model_naming_the_input(client, served_model):
    # The request from the protocol's "Inference Request Examples", sent as written (a model with
    # a UINT32 [2, 2] input0 and a BOOL input1): it is not this model's, and the answer says why.
    example = {
        "id": "42",
        "inputs": [
            {"name": "input0", "shape": [2, 2], "datatype": "UINT32", "data": [1, 2, 3, 4]},
            {"name": "input1", "shape": [3], "datatype": "BOOL", "data": [True]},
        ],
        "outputs": [{"name": "output0"}],
    }
    response = client.post(f"/v2/models/{served_model['name']}/infer", json=example)
    assert_kserve_error(response, 400, "output0")
    del example["outputs"]
    assert_kserve_error(client.post(f"/v2/models/{served_model['name']}/infer", json=example), 400, "input0", "FP32")


def test_the_protocols_tensor_data_example_natural_and_flattened_agree(client, infer_path, features):
    # The protocol's example: [[1, 2], [4, 5]] "in its natural format" or [1, 2, 4, 5] flattened.
    natural = [[1, 2, 4, 5, 3][: len(features)], [4, 5, 1, 2, 3][: len(features)]]
    answers = [
        client.post(infer_path, json={"inputs": [{**matrix(natural), "data": data}]}).json()
        for data in (natural, [v for row in natural for v in row])
    ]
    assert outputs(answers[0]) == outputs(answers[1]) == predicted(client, natural)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda t: {**t, "datatype": "INT64"}, ["FP32, FP64"]),
        (lambda t: {**t, "shape": [1, 4]}, ["shape"]),
        (lambda t: {**t, "shape": [2, 5]}, ["5 values for shape [2, 5]"]),
        (lambda t: {**t, "name": "x"}, ["'features'"]),
        (lambda t: {**t, "data": [1, 2, 3, 4, "5"]}, ["row 0", "must be a number"]),
        (lambda t: {**t, "data": [1, 2, 3, 4, None]}, ["row 0", "got null"]),
        (lambda t: {**t, "parameters": {"binary_data_size": 40}}, ["binary"]),
        (lambda t: {**t, "data": [[1, 2], 3, 4, 5]}, ["nesting level 0", "data has 4 values", "[1, 5]"]),
        (lambda t: {**t, "data": [[1, 2, 3, 4, [5]]]}, ["nested deeper than its shape [1, 5]"]),
        (lambda t: {**t, "shape": [10**300] * 15}, ["64-bit"]),
        (lambda t: {**t, "shape": [1, 5, 1]}, ["3 dimensions"]),
        (lambda t: {**t, "parameters": [1]}, ["parameters must be an object"]),
    ],
)
def test_a_tensor_that_does_not_fit_is_400_naming_the_problem(client, infer_path, change, words):
    tensor = {"name": "features", "datatype": "FP64", "shape": [1, 5], "data": [1, 2, 3, 4, 5]}
    assert_kserve_error(client.post(infer_path, json={"inputs": [change(tensor)]}), 400, *words)


@pytest.mark.parametrize(
    "shape, data, words",
    [  # the rows of these would otherwise be cut from the values as if flat: wrong rows, answered
        ([2, 16], [list(range(15)), list(range(17))], ["nesting level 1", "data[0] has 15 values", "is 16"]),
        ([3, 16], [list(range(48))], ["nesting level 0", "data has 1 value where", "is 3"]),
        ([2, 16], [list(range(16)), 7], ["nesting level 1", "data[1] has a single value"]),
    ],
)
def test_ragged_nested_data_is_400_naming_the_tensor_and_the_level(bundled, shape, data, words):
    name = bundled.get("/model").json()["model"]["name"]
    tensor = {"name": "features", "datatype": "FP64", "shape": shape, "data": data}
    assert_kserve_error(bundled.post(f"/v2/models/{name}/infer", json={"inputs": [tensor]}), 400, "'features'", *words)


def test_nan_in_a_tensor_is_refused_naming_the_row_and_feature(client, infer_path, features):
    raw = (
        '{"inputs": [{"name": "features", "datatype": "FP64", "shape": [2, 5], '
        '"data": [1, 2, 3, 4, 5, 1, NaN, 3, 4, 5]}]}'
    )
    error = assert_kserve_error(
        client.post(infer_path, content=raw, headers={"Content-Type": "application/json"}), 400, "row 1"
    )
    assert features[1] in error


def test_more_rows_than_max_batch_are_refused(make_client, served_model_dir, served_model):
    client = make_client(MODEL_DIR=served_model_dir, MAX_BATCH=2)
    response = client.post(f"/v2/models/{served_model['name']}/infer", json={"inputs": [matrix([[1.0] * 5] * 3)]})
    assert_kserve_error(response, 400, "between 1 and 2 rows")


def test_inference_needs_the_api_key_and_obeys_the_body_limit(make_client, served_model_dir, served_model):
    path = f"/v2/models/{served_model['name']}/infer"
    keyed = make_client(MODEL_DIR=served_model_dir, API_KEYS="k1")
    assert_kserve_error(keyed.post(path, json={"inputs": [matrix([[1.0] * 5])]}), 401, "X-API-Key")
    small = make_client(MODEL_DIR=served_model_dir, MAX_BODY_BYTES=100)
    assert_kserve_error(small.post(path, json={"inputs": [matrix([[1.0] * 5] * 5)]}), 413, "at most 100 bytes")


def test_a_body_is_read_as_json_whatever_its_type_unless_binary_tensors_follow_it(client, infer_path):
    # As Triton and KServe read it: tritonclient's asyncio client declares application/octet-stream.
    body = b'{"inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 5], "data": [1, 2, 3, 4, 5]}]}'
    for declared in ("application/octet-stream", "text/plain", ""):
        assert client.post(infer_path, content=body, headers={"Content-Type": declared}).status_code == 200
    # Triton's binary tensor extension: the JSON's length in this header, raw tensor bytes after it.
    binary = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(body))}
    assert_kserve_error(
        client.post(infer_path, content=body + bytes(40), headers=binary), 400, "binary tensor data is not supported"
    )


# ---------------------------------------------------------------- explanations (the bundled model explains)


@pytest.fixture
def bundled(make_client):
    return make_client(MODEL_DIR=DEFAULT_MODEL)


@pytest.fixture
def bundled_rows(bundled) -> tuple[list[str], list[list[float]]]:
    """The bundled model's features and two companies' values of them, as /predict computed them."""
    features = bundled.get("/model").json()["features"]
    companies = [LEGACY_STATEMENT, {**LEGACY_STATEMENT, "net_income": -9e9, "operating_income": -4e9}]
    answers = bundled.post("/predict", json={"companies": companies, "explain": False}).json()["predictions"]
    return features, [[a["ratios"][f] for f in features] for a in answers]


def bundled_infer(bundled, body):
    response = bundled.post(f"/v2/models/{bundled.get('/model').json()['model']['name']}/infer", json=body)
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_metadata_of_a_model_that_explains_lists_the_explanation_outputs_and_their_columns(bundled):
    model = bundled.get("/model").json()
    body = bundled.get(f"/v2/models/{model['model']['name']}").json()
    columns = {"shape": [-1, len(model["features"])], "parameters": {"features": model["features"]}}
    assert body["outputs"] == [
        {"name": "probability_unsound", "datatype": "FP64", "shape": [-1]},
        {"name": "label", "datatype": "INT64", "shape": [-1]},
        {"name": "contributions", "datatype": "FP64", **columns},
        {"name": "baseline", "datatype": "FP64", "shape": [-1]},
    ]
    parameters = {**columns["parameters"], "datatypes": ["FP32", "FP64"], "accepts_unknown": True}
    assert body["inputs"] == [{"name": "features", "datatype": "FP64", **columns, "parameters": parameters}]
    assert body["parameters"]["unknown_mask"] == {"name": "unknown", "datatype": "BOOL", **columns}


def test_by_default_every_row_is_explained_as_predict_explains_it_adding_up_to_its_log_odds(bundled, bundled_rows):
    features, rows = bundled_rows
    body = bundled_infer(bundled, {"inputs": [matrix(rows)]})
    assert [(o["name"], o["datatype"], o["shape"]) for o in body["outputs"]] == [
        ("probability_unsound", "FP64", [2]),
        ("label", "INT64", [2]),
        ("contributions", "FP64", [2, len(features)]),
        ("baseline", "FP64", [2]),
    ]
    tensors = outputs(body)
    width = len(features)
    contributions = [tensors["contributions"][r * width : (r + 1) * width] for r in range(len(rows))]
    explained = [p["explanation"] for p in bundled.post("/predict", json={"data": rows}).json()["predictions"]]
    assert contributions == [[e["contributions"][f] for f in features] for e in explained]
    assert tensors["baseline"] == [e["baseline"] for e in explained]
    for p, baseline, row in zip(tensors["probability_unsound"], tensors["baseline"], contributions):
        assert baseline + sum(row) == pytest.approx(math.log(p / (1 - p)), abs=1e-6)


def test_outputs_without_the_explanation_ones_cost_no_explanation(bundled, bundled_rows, rows_explained):
    _, rows = bundled_rows
    body = bundled_infer(
        bundled, {"inputs": [matrix(rows)], "outputs": [{"name": "label"}, {"name": "probability_unsound"}]}
    )
    assert [o["name"] for o in body["outputs"]] == ["label", "probability_unsound"] and rows_explained() == 0
    body = bundled_infer(bundled, {"inputs": [matrix(rows)], "outputs": [{"name": "baseline"}]})
    assert [(o["name"], o["shape"]) for o in body["outputs"]] == [("baseline", [2])] and rows_explained() == 2


def test_a_row_that_cannot_be_scored_still_fails_the_request_when_explaining(bundled, bundled_rows):
    features, rows = bundled_rows
    response = bundled.post(
        f"/v2/models/{bundled.get('/model').json()['model']['name']}/infer",
        json={"inputs": [matrix([rows[0], [*rows[1][:-1], "1.5"]])]},
    )
    assert_kserve_error(response, 400, "row 1", features[-1], "must be a number")


# ---------------------------------------------------------------- unknown inputs (the bundled model takes them)


@pytest.fixture
def unknown_rows(bundled) -> tuple[list[str], list[list[float | None]], list[dict]]:
    """Three companies with statement values left out, their features (None: unknown) as /predict
    derived them, and /predict's answers for them."""
    features = bundled.get("/model").json()["features"]
    companies = [
        {**LEGACY_STATEMENT, "revenue_prior": None},
        {k: v for k, v in LEGACY_STATEMENT.items() if not k.endswith("_prior")},
        LEGACY_STATEMENT,
    ]
    answers = bundled.post("/predict", json={"companies": companies}).json()["predictions"]
    assert [bool(a["warnings"]) for a in answers] == [True, True, False]
    return features, [[a["ratios"][f] for f in features] for a in answers], answers


def scored_as_predict(body, answers, features):
    tensors, width = outputs(body), len(features)
    assert tensors["probability_unsound"] == [a["probability_unsound"] for a in answers]
    assert tensors["label"] == [a["label"] for a in answers]
    assert [tensors["contributions"][r * width : (r + 1) * width] for r in range(len(answers))] == [
        [a["explanation"]["contributions"][f] for f in features] for a in answers
    ]


def test_unknown_values_sent_as_null_are_scored_as_predict_scores_them(bundled, unknown_rows):
    features, rows, answers = unknown_rows
    assert any(None in row for row in rows)
    scored_as_predict(bundled_infer(bundled, {"inputs": [matrix(rows)]}), answers, features)
    columns = [
        {"name": f, "datatype": "FP64", "shape": [3, 1], "data": [[r[i]] for r in rows]} for i, f in enumerate(features)
    ]
    scored_as_predict(bundled_infer(bundled, {"inputs": columns}), answers, features)


def test_unknown_values_marked_in_the_unknown_mask_are_scored_as_predict_scores_them(bundled, unknown_rows):
    # For clients that cannot send null (numpy arrays): any number in the value's place, true in the mask.
    features, rows, answers = unknown_rows
    mask = {
        "name": "unknown",
        "datatype": "BOOL",
        "shape": [3, len(features)],
        "data": [[v is None for v in r] for r in rows],
    }
    for filler in (0.0, -999.0):
        filled = [[filler if v is None else v for v in row] for row in rows]
        scored_as_predict(bundled_infer(bundled, {"inputs": [matrix(filled), mask]}), answers, features)
    raw = json.dumps({"inputs": [matrix([[-1.0 if v is None else v for v in r] for r in rows]), mask]})
    with_nan = bundled.post(  # numpy's NaN, as Python's json writes it, where the mask says unknown
        f"/v2/models/{bundled.get('/model').json()['model']['name']}/infer",
        content=raw.replace("-1.0", "NaN"),
        headers={"Content-Type": "application/json"},
    )
    assert with_nan.status_code == 200, with_nan.json()
    scored_as_predict(with_nan.json(), answers, features)


@pytest.mark.parametrize(
    "mask, words",
    [
        ({"datatype": "BOOL", "shape": [1, 3], "data": [True, False, True]}, ["'unknown'", "shape [1, 16]"]),
        ({"datatype": "BOOL", "shape": [1, 16], "data": [1] + [0] * 15}, ["'unknown'", "true or false"]),
        ({"datatype": "FP64", "shape": [1, 16], "data": [0.0] * 16}, ["'unknown'", "BOOL"]),
    ],
)
def test_an_unknown_mask_that_does_not_fit_is_400(bundled, mask, words):
    name = bundled.get("/model").json()["model"]["name"]
    tensor = {"name": "features", "datatype": "FP64", "shape": [1, 16], "data": [1.0] * 16}
    response = bundled.post(f"/v2/models/{name}/infer", json={"inputs": [tensor, {"name": "unknown", **mask}]})
    assert_kserve_error(response, 400, *words)


def test_a_model_that_needs_every_input_refuses_null_and_the_mask(client, infer_path, features):
    row = LEGACY_RATIOS[: len(features)]
    assert_kserve_error(client.post(infer_path, json={"inputs": [matrix([[*row[:-1], None]])]}), 400, "got null")
    mask = {"name": "unknown", "datatype": "BOOL", "shape": [1, len(row)], "data": [False] * len(row)}
    assert_kserve_error(client.post(infer_path, json={"inputs": [matrix([row]), mask]}), 400, "needs every input")


# ---------------------------------------------------------------- a real client


@pytest.mark.server
def test_tritons_python_client_checks_health_reads_metadata_and_infers(start_server, served_model_dir, served_model):
    np = pytest.importorskip("numpy")
    http = pytest.importorskip("tritonclient.http")
    server = start_server({"MODEL_DIR": str(served_model_dir)})
    name = served_model["name"]
    triton = http.InferenceServerClient(url=server.url.removeprefix("http://"))
    try:
        assert triton.is_server_live() and triton.is_server_ready() and triton.is_model_ready(name)
        metadata = triton.get_model_metadata(name)
        width = metadata["inputs"][0]["shape"][1]
        rows = np.array([LEGACY_RATIOS[:width], SECOND_ROW[:width]], dtype=np.float64)
        tensor = http.InferInput(metadata["inputs"][0]["name"], list(rows.shape), "FP64")
        tensor.set_data_from_numpy(rows, binary_data=False)
        result = triton.infer(name, [tensor], request_id="7")
        status, body, _ = post_json(server.url + "/predict", {"data": rows.tolist()})
        assert status == 200
        assert result.as_numpy("probability_unsound").tolist() == [
            p["probability_unsound"] for p in body["predictions"]
        ]
        assert result.as_numpy("label").tolist() == [p["label"] for p in body["predictions"]]
        assert result.get_response()["id"] == "7"
        with pytest.raises(Exception, match="not served here"):
            triton.infer("other-model", [tensor])
    finally:
        triton.close()


# ---------------------------------------------------------------- every answer under /v2 in the protocol's shape


@pytest.mark.parametrize(
    "method, path, status",
    [  # what tritonclient asks of a Triton server that this one does not offer
        ("GET", "/v2/models/{name}/config", 404),  # get_model_config
        ("POST", "/v2/repository/index", 404),  # get_model_repository_index
        ("GET", "/v2/models/{name}/stats", 404),  # get_inference_statistics
        ("POST", "/v2/repository/models/{name}/load", 404),  # load_model
        ("GET", "/v2/models/{name}/infer", 405),
        ("DELETE", "/v2/health/live", 405),
        ("POST", "/v2", 405),
        ("TRACE", "/v2/models/{name}/infer", 405),  # outside the framework's methods: its own 405
        ("GET", "/v2/models/a%0Ab/ready", 404),  # a path the framework's router cannot take
    ],
)
def test_routes_and_methods_not_offered_are_answered_in_the_protocols_error_shape(
    client, served_model, method, path, status
):
    response = client.request(method, path.format(name=served_model["name"]))
    assert_kserve_error(response, status)
    if status == 405:
        assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]


def test_a_bug_of_ours_is_500_in_the_protocols_shape(client, infer_path, features, monkeypatch):
    import soundness_api.open_inference

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(soundness_api.open_inference, "predictions", broken)
    response = client.post(infer_path, json={"inputs": [matrix([LEGACY_RATIOS[: len(features)]])]})
    assert assert_kserve_error(response, 500, "internal error") == "internal error"
