"""/predict's shapes are declared once (soundness_api/contract.py): the server validates by them
and the served OpenAPI document is written from them, for the model loaded. A well-formed body is
read in one pass; any other by the strict reader, row by row, with the same verdicts."""

import json
import sys

import pytest

from helpers import LEGACY_STATEMENT
from soundness import ratios
from soundness_api import contract, openapi, payloads
from soundness_api.errors import Malformed

FEATURES = [r.name for r in ratios.RATIOS]
FIVE = list(ratios.LEGACY_FEATURES)


def bodies() -> list[dict]:
    return [
        {"companies": [{**LEGACY_STATEMENT, "id": i} for i in range(20)]},
        {"companies": [{"id": "a", **LEGACY_STATEMENT}, {"revenue": 5.0}], "explain": False},
        {"instances": [dict.fromkeys(FIVE, 1.5), {"id": "x", **dict.fromkeys(FEATURES, 2)}]},
        {"data": [[1, 2, 3, 4, 5], [0.5] * len(FEATURES), [None] * 4 + [1]], "explain": True},
    ]


@pytest.mark.parametrize("body", bodies(), ids=lambda body: next(iter(body)))
def test_a_well_formed_body_is_read_in_one_pass_into_the_rows_the_strict_reader_gives(body):
    raw = json.dumps(body).encode()
    shape = contract.shapes(tuple(FEATURES), True, 1000)
    assert payloads._decoded(raw, shape) is not None  # the one pass
    fast, strict = payloads.parse_request(raw, FEATURES, 1000, True), payloads.parse_request(body, FEATURES, 1000, True)
    assert repr(fast) == repr(strict)  # repr: NaN features compare equal, to the last bit


@pytest.mark.parametrize(
    "raw",
    [
        b'{"companies": [{"total_assets": 1, "total_assets": 2}]}',
        b'{"companies": [{"id": "a:b", "revenue": 1, "revenue": 2}]}',  # a colon in a string as well
        b'{"data": [[1, 2, 3, 4, 5]], "data": [[1, 2, 3, 4, 5]]}',
    ],
)
def test_a_key_given_twice_is_refused_though_the_fast_decoder_keeps_the_last(raw):
    with pytest.raises(Malformed, match="duplicate key"):
        payloads.parse_request(raw, FEATURES, 1000, True)


def test_a_colon_inside_a_string_does_not_pass_for_a_repeated_key():
    raw = json.dumps({"companies": [{"id": "2023:Q4 a:b", **LEGACY_STATEMENT}]}).encode()
    [row] = payloads.parse_request(raw, FEATURES, 1000, True).rows
    assert isinstance(row, payloads.Row) and row.id == "2023:Q4 a:b"


def test_nan_and_infinity_are_named_by_field_and_the_other_rows_are_read():
    raw = b'{"companies": [{"total_assets": NaN}, {"revenue": -Infinity}, {"revenue": 1, "revenue_prior": 2}]}'
    first, second, third = payloads.parse_request(raw, FEATURES, 1000, True).rows
    assert [d["field"] for d in first.details] == ["total_assets"] and "NaN" in first.details[0]["problem"]
    assert [d["field"] for d in second.details] == ["revenue"]
    assert isinstance(third, payloads.Row)


def test_the_declared_request_shapes_are_the_documents_components_for_the_model_served(served_model_dir):
    from soundness_api.lazy_model import LazyModel

    predictor = LazyModel(served_model_dir).get()
    document = openapi.document(openapi_settings(), predictor)
    schemas = document["components"]["schemas"]
    instance = schemas["Instance"]
    assert set(instance["properties"]) == {"id", *predictor.features} and instance["additionalProperties"] is False
    assert set(schemas["Company"]["properties"]) == {"id", *ratios.STATEMENT_FIELDS, "currency", "market"}
    assert schemas["CompaniesRequest"]["properties"]["companies"]["maxItems"] == 1000
    assert contract.RULES_IN_WORDS in schemas["PredictRequest"]["description"]
    assert document["paths"]["/v1/models/{name}"]["get"]["parameters"][0]["schema"]["enum"] == [predictor.name]


def openapi_settings():
    from soundness_api.config import Settings

    return Settings.from_env({})


def test_openapi_json_is_built_once_for_the_model_loaded_and_never_rereads_the_artifact(client, monkeypatch):
    import soundness.artifacts

    built, read = [], []
    document = openapi.document
    monkeypatch.setattr(openapi, "document", lambda *args: built.append(args) or document(*args))
    for name in ("verified_manifest", "load"):
        original = getattr(soundness.artifacts, name)
        monkeypatch.setattr(soundness.artifacts, name, lambda *a, _o=original, **k: read.append(a) or _o(*a, **k))
    client.get("/ready")
    read.clear()
    first, second = client.get("/openapi.json"), client.get("/openapi.json")
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert len(built) == 1 and read == []
    features = client.get("/model").json()["features"]
    assert set(first.json()["components"]["schemas"]["Instance"]["properties"]) == {"id", *features}


def test_without_a_model_the_document_declares_the_legacy_five(make_client, tmp_path):
    client = make_client(MODEL_DIR=tmp_path / "absent")
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Instance"]["properties"]) == {"id", *FIVE}
    assert sys.modules["main"].service.model.loaded is False
