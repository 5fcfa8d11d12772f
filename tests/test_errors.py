"""Refusals: the domain code says what kind of refusal, each protocol's table says its status."""

import pytest

from soundness_api import bigquery, errors, kserve_v1
from soundness_api import open_inference as v2
from soundness_api.errors import ApiError, Invalid, Refusal, Unavailable, status_of

KINDS = [kind for kind in Refusal.__subclasses__() if kind is not ApiError]
TABLES = {"predict": errors.STATUSES, "v1": kserve_v1.STATUSES, "v2": v2.STATUSES, "bigquery": bigquery.STATUSES}


@pytest.mark.parametrize("protocol", TABLES)
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_kind_of_refusal_has_a_status_in_every_protocol(protocol, kind):
    assert 400 <= status_of(kind("code", "message"), TABLES[protocol]) < 600


def test_a_request_that_cannot_be_used_is_422_on_predict_and_400_in_the_other_protocols():
    refusal = Invalid("invalid_request", "no")
    assert {name: status_of(refusal, table) for name, table in TABLES.items()} == {
        "predict": 422,
        "v1": 400,
        "v2": 400,
        "bigquery": 400,
    }


def test_the_http_layers_own_refusals_keep_their_status_everywhere():
    assert {status_of(ApiError(408, "body_timeout", "slow"), table) for table in TABLES.values()} == {408}


def test_a_refusal_that_says_when_to_ask_again_carries_retry_after():
    refusal = Unavailable("model_unavailable", "not now", retry_after=60)
    assert refusal.headers == {"Retry-After": "60"}
    assert refusal.body() == {"error": {"code": "model_unavailable", "message": "not now", "details": []}}
