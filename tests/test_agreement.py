"""The served OpenAPI document and the server give the same verdict on a request: for each of 120
bodies per input form (and KServe V1's), valid, invalid and on the edge, the document's schema is
asked and the body posted; the schema accepts it exactly when the server scores every row.

A row the schema refuses is refused in its place (200, its error in the row) or the whole request
is (4xx): either way not every row is scored. The rules no JSON Schema can say (a company's
ratios computable, at least one input known: PredictRequest's description) are left out of the
corpus: every generated row gives at least one known input with positive denominators."""

import json
import random

import pytest

from helpers import LEGACY_STATEMENT, schema_validator
from soundness import ratios

MAX_BATCH = 5
BODIES = 120
ODD_VALUES = ["1", True, [1.0], {}, 1e301, -1e301, None]
ODD_IDS = [2**53, -(2**53), "x" * 201, "a\u202eb", "tab\there", None, 1.5, True, ["id"]]
FINE_IDS = [0, -(2**53) + 1, 2**53 - 1, "x" * 200, "삼성전자 2023", "a:b"]


@pytest.fixture
def agreement(make_client, served_model_dir):
    client = make_client(MODEL_DIR=served_model_dir, MAX_BATCH=MAX_BATCH)
    document = client.get("/openapi.json").json()
    features = client.get("/model").json()["features"]
    return client, document, features


def _company(rng: random.Random) -> dict:
    company = {name: value * rng.uniform(0.5, 2.0) for name, value in LEGACY_STATEMENT.items()}
    if rng.random() < 0.3:
        company["id"] = rng.choice(FINE_IDS)
    if rng.random() < 0.2:
        company.update(currency="KRW", market=rng.choice(["KOSPI", "KOSDAQ", None]))
    if rng.random() < 0.2:
        del company[rng.choice(["total_assets_prior", "net_income"])]  # unknown: scored with a warning
    return company


def _instance(rng: random.Random, features: list[str]) -> dict:
    chosen = rng.sample(features, rng.randint(1, len(features)))
    instance = {name: rng.uniform(-50, 50) for name in chosen}
    if rng.random() < 0.3:
        instance["id"] = rng.choice(FINE_IDS)
    return instance


def _data(rng: random.Random, features: list[str]) -> list:
    row = [rng.uniform(-50, 50) for _ in range(rng.choice([len(features), len(ratios.LEGACY_FEATURES)]))]
    if rng.random() < 0.2:
        row[rng.randrange(1, len(row))] = None  # unknown; the first stays known
    return row


def _spoilt_row(rng: random.Random, row, features: list[str]):
    """The row with one thing wrong that the schema can say."""
    if isinstance(row, list):
        return rng.choice([row[:3], [*row, 1.0], [row[0], "x", *row[2:]], [True, *row[1:]], {"a": 1}])
    spoilt = dict(row)
    kind = rng.randrange(3)
    if kind == 0:
        spoilt["id"] = rng.choice(ODD_IDS)
    elif kind == 1:
        name = rng.choice([k for k in spoilt if k != "id"])
        spoilt[name] = rng.choice([v for v in ODD_VALUES if v is not None])
    else:
        spoilt[rng.choice(["currency", "market"] if "total_assets" in row else ["debt", features[0] + "_x"])] = "nyse"
    return spoilt


def _body(rng: random.Random, form: str, features: list[str]) -> dict | list:
    make = {"companies": lambda: _company(rng), "instances": lambda: _instance(rng, features)}.get(
        form, lambda: _data(rng, features)
    )
    rows = [make() for _ in range(rng.randint(1, MAX_BATCH))]
    body: dict = {form: rows}
    trouble = rng.random()
    if trouble < 0.45:
        i = rng.randrange(len(rows))
        rows[i] = _spoilt_row(rng, rows[i], features)
    elif trouble < 0.6:
        body = rng.choice(
            [
                {form: []},
                {form: rows * (MAX_BATCH + 1)},
                {**body, "explain": rng.choice(["no", 0, None])},
                {**body, "extra": 1},
                {**body, ("data" if form != "data" else "instances"): rows},
                {form: rows[0]},
            ]
        )
    elif trouble < 0.7:
        body["explain"] = rng.choice([True, False])
    return body


def _served_verdict(response) -> bool:
    return response.status_code == 200 and not any("error" in p for p in response.json()["predictions"])


@pytest.mark.parametrize("form", ["companies", "instances", "data", "v1"])
def test_the_document_and_the_server_agree_on_every_body(agreement, served_model, form):
    client, document, features = agreement
    rng = random.Random(form)
    schema = schema_validator(document, "V1Request" if form == "v1" else "PredictRequest")
    url = f"/v1/models/{served_model['name']}:predict" if form == "v1" else "/predict"
    verdicts = {True: 0, False: 0}
    disagreements = []
    for _ in range(BODIES):
        body = _body(rng, rng.choice(["instances", "data"]) if form == "v1" else form, features)
        if form == "v1" and isinstance(body, dict):  # V1: instances, objects or arrays, and parameters
            rows = next((v for k, v in body.items() if k in ("instances", "data")), [])
            body = {"instances": rows, **({"parameters": {"explain": body["explain"]}} if "explain" in body else {})}
        documented = schema.is_valid(body)
        response = client.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})
        served_ok = _served_verdict(response)
        verdicts[documented] += 1
        if documented != served_ok:
            disagreements.append((body, response.status_code, response.text[:300]))
    assert not disagreements, disagreements[:3]
    assert verdicts[True] >= 20 and verdicts[False] >= 20, verdicts  # the corpus has both kinds
