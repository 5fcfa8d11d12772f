"""Answers under /v2 held to the Open Inference Protocol's published REST specification:
`specification/protocol/open_inference_rest.yaml` and `inference_rest.md` of
kserve/open-inference-protocol (commit d49cc23). The schemas below are written from it, not copied:
the response objects its paths name, success and error alike, with what its text adds (a tensor's
data is row-major, as many values as its shape says; output dimensions are unsigned 64-bit
integers; the datatypes of its table; an error is 'indicated by an HTTP error status').
"""

from __future__ import annotations

import math

import pytest

from helpers import DEFAULT_MODEL, LEGACY_STATEMENT

jsonschema_rs = pytest.importorskip("jsonschema_rs")  # schemathesis's validator

DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32"]
DATATYPES += ["FP64", "BYTES"]
STRINGS = {"type": "array", "items": {"type": "string"}}
TENSOR_DATA = {
    "type": "array",
    "items": {"anyOf": [{"$ref": "#/$defs/tensor_data"}, {"type": ["number", "string", "boolean"]}]},
}
METADATA_TENSOR = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string"},
        "datatype": {"enum": DATATYPES},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": -1}},  # -1: variable-size
    },
}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
SCHEMAS = {
    "metadata_server_response": {
        "type": "object",
        "required": ["name", "version", "extensions"],
        "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "extensions": STRINGS},
    },
    "metadata_model_response": {
        "type": "object",
        "required": ["name", "platform"],
        "properties": {
            "name": {"type": "string"},
            "versions": STRINGS,
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": METADATA_TENSOR},
            "outputs": {"type": "array", "items": METADATA_TENSOR},
        },
    },
    "inference_response": {
        "type": "object",
        "required": ["model_name", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "parameters": {"type": "object"},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "shape", "datatype", "data"],
                    "properties": {
                        "name": {"type": "string"},
                        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}},
                        "datatype": {"enum": DATATYPES},
                        "parameters": {"type": "object"},
                        "data": {"$ref": "#/$defs/tensor_data"},
                    },
                },
            },
        },
    },
    "error": ERROR,
}


def validator(name: str):
    return jsonschema_rs.Draft202012Validator({**SCHEMAS[name], "$defs": {"tensor_data": TENSOR_DATA}})


def conforms(response, status: int, schema: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = response.json()
    errors = [str(e) for e in validator(schema).iter_errors(body)]
    assert not errors, errors
    return body


@pytest.fixture
def bundled(make_client):
    return make_client(MODEL_DIR=DEFAULT_MODEL)


@pytest.fixture
def name(bundled) -> str:
    return bundled.get("/model").json()["model"]["name"]


@pytest.fixture
def row(bundled) -> list:
    features = bundled.get("/model").json()["features"]
    ratios = bundled.post("/predict", json={"companies": [LEGACY_STATEMENT]}).json()["predictions"][0]["ratios"]
    return [ratios[f] for f in features]


def test_health_live_and_ready_are_200(bundled):
    for path in ("/v2/health/live", "/v2/health/ready"):
        assert bundled.get(path).status_code == 200


def test_server_metadata(bundled):
    conforms(bundled.get("/v2"), 200, "metadata_server_response")


def test_model_metadata_and_model_ready(bundled, name):
    version = bundled.get("/model").json()["model"]["version"]
    for path in (f"/v2/models/{name}", f"/v2/models/{name}/versions/{version}"):
        body = conforms(bundled.get(path), 200, "metadata_model_response")
        assert body["platform"] == ""  # none of the spec's "<project>_<format>" platforms is ours
        assert bundled.get(path + "/ready").status_code == 200


def test_inference_flat_and_natural_with_each_output_as_its_shape_says(bundled, name, row):
    for data in (row * 2, [row, row]):  # "flattened" and "in its natural format"
        request = {
            "id": "42",
            "inputs": [{"name": "features", "shape": [2, len(row)], "datatype": "FP64", "data": data}],
        }
        body = conforms(bundled.post(f"/v2/models/{name}/infer", json=request), 200, "inference_response")
        assert body["id"] == "42"
        for output in body["outputs"]:
            assert len(output["data"]) == math.prod(output["shape"]), output["name"]


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("GET", "/v2/models/other", None, 404),
        ("GET", "/v2/models/other/ready", None, 404),
        ("GET", "/v2/models/{name}/versions/0/ready", None, 404),
        ("POST", "/v2/models/{name}/infer", {"inputs": []}, 400),
        ("POST", "/v2/models/{name}/infer", {"inputs": [{"name": "features", "shape": [1], "datatype": "FP64"}]}, 400),
        # the spec's own example request, for a model this is not
        (
            "POST",
            "/v2/models/{name}/infer",
            {
                "id": "42",
                "inputs": [
                    {"name": "input0", "shape": [2, 2], "datatype": "UINT32", "data": [1, 2, 3, 4]},
                    {"name": "input1", "shape": [3], "datatype": "BOOL", "data": [True]},
                ],
                "outputs": [{"name": "output0"}],
            },
            400,
        ),
        ("GET", "/v2/models/{name}/infer", None, 405),
        ("GET", "/v2/models/{name}/config", None, 404),
    ],
)
def test_every_failure_is_an_error_status_with_the_error_object(bundled, name, method, path, body, status):
    response = bundled.request(method, path.format(name=name), json=body)
    conforms(response, status, "error")


def test_the_model_unavailable_is_an_error_status_with_the_error_object(make_client, tmp_path):
    client = make_client(MODEL_DIR=tmp_path / "none")
    for path in ("/v2/health/ready", "/v2/models/m", "/v2/models/m/ready"):
        conforms(client.get(path), 503, "error")
