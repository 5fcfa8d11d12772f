"""An error answer stays under 64 KiB for any body the server accepts to read (MAX_BODY_BYTES):
details are capped with a count of those left out, a client's text is echoed cut short, and an
unknown key is named once per request, not once per row."""

import json
import string

import pytest

from helpers import SMALL_STATEMENT
from soundness_api.errors import MAX_DETAILS

JSON = {"Content-Type": "application/json"}

LIMIT = 64 * 1024
MAX_BODY = 1 << 20
# 150 short keys: 52 letters and 98 letter pairs, so 1000 rows of them fit in 1 MiB.
KEYS = list(string.ascii_letters) + [a + b for a in "xyz" for b in string.ascii_letters][:98]


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def bodies() -> dict[str, bytes]:
    huge_key = "k" * 900_000
    return {
        # The body: 1000 rows x 150 unknown keys, which once got a 32 MiB 422.
        "1000 rows x 150 unknown keys": compact({"companies": [{key: 0 for key in KEYS}] * 1000}),
        "a different unknown key in every row": compact(
            {"instances": [{f"u{i}_{j}": 0 for j in range(75)} for i in range(1000)]}
        ),
        "1000 rows x 9 wrong values": compact({"companies": [{k: "x" for k in SMALL_STATEMENT}] * 1000}),
        "1000 rows x 6 ids and values wrong": compact(
            {
                "companies": [
                    {
                        "id": [1],
                        **SMALL_STATEMENT,
                        "total_assets": 0,
                        "revenue": 0,
                        "revenue_prior": -1,
                        "operating_income_prior": 0,
                        "total_assets_prior": None,
                    }
                ]
                * 1000
            }
        ),
        "one unknown key of 900 KB": compact({"companies": [{**SMALL_STATEMENT, huge_key: 1}]}),
        "an unknown input form of 900 KB": compact({huge_key: [], "data": [[1, 2, 3, 4, 5]]}),
        "a duplicate key of 500 KB": b'{"'
        + huge_key[:500_000].encode()
        + b'":1,"'
        + huge_key[:500_000].encode()
        + b'":2}',
        "lone surrogates as unknown keys": compact(
            {"companies": [{f"\ud800{i}" * 20: 0 for i in range(40)} for _ in range(100)]}
        ),
    }


@pytest.mark.parametrize("name", list(bodies()))
def test_an_error_answer_stays_under_64_kib_for_any_body_within_the_limit(client, name):
    raw = bodies()[name]
    assert len(raw) <= MAX_BODY, len(raw)
    response = client.post("/predict", content=raw, headers=JSON)
    assert 400 <= response.status_code < 500, response.status_code
    size = len(response.content)
    print(f"\n{name}: {len(raw)} byte body -> {response.status_code}, {size} byte answer")
    assert size <= LIMIT
    error = response.json()["error"]
    assert len(error["details"]) <= MAX_DETAILS


def test_an_unknown_key_is_named_once_per_request_with_how_many_rows_have_it(client):
    response = client.post("/predict", content=bodies()["1000 rows x 150 unknown keys"], headers=JSON)
    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "unknown_field"
    assert error["message"].startswith("150 unknown field name(s) in companies")
    assert error["details"][0] == {"index": 0, "field": "a", "problem": "is not a known field (in 1000 rows)"}
    assert len(error["details"]) == MAX_DETAILS and error["details_omitted"] == 150 - MAX_DETAILS


def test_capped_details_say_how_many_were_left_out(client):
    error = client.post("/predict", content=bodies()["1000 rows x 9 wrong values"], headers=JSON).json()["error"]
    assert error["code"] == "invalid_input"
    assert [d["index"] for d in error["details"][:10]] == [0] * 9 + [1]
    assert error["details_omitted"] == 9000 - MAX_DETAILS


def test_a_clients_long_key_is_echoed_cut_short(client):
    error = client.post("/predict", content=bodies()["one unknown key of 900 KB"], headers=JSON).json()["error"]
    assert error["details"][0]["field"] == "k" * 64 + "…"


def test_a_refused_row_inside_a_200_answer_caps_its_details_too():
    from soundness_api.answers import _refused
    from soundness_api.errors import detail
    from soundness_api.payloads import RowError

    error = _refused(RowError(3, "x", [detail(f"f{i}", "is required", 3) for i in range(MAX_DETAILS + 10)]))["error"]
    assert len(error["details"]) == MAX_DETAILS and error["details_omitted"] == 10
