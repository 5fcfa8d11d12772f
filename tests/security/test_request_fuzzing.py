"""Any JSON value in any position of a predict request gets a documented answer, never a 5xx.

Bodies are serialised with NaN/Infinity literals, integers of thousands of digits, deep
nesting and arbitrary text; each answer is checked against the OpenAPI document served
by the same instance.
"""

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import assert_error_shape, mimetype, schema_validator
from soundness import ratios
from soundness_api.errors import Refusal, status_of
from soundness_api.payloads import FORMS, parse_json, parse_rows

DOCUMENTED = {200, 400, 413, 415, 422}
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text includes lone surrogates (sent as \ud800 escapes), which no UTF-8 answer can carry raw.
text = st.text(st.characters() | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=12)
scalars = (
    st.none() | st.booleans() | st.floats() | st.integers() | st.integers(min_value=10**300, max_value=10**4000) | text
)
any_json = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
good_number = st.floats(min_value=-1e6, max_value=1e6) | st.integers(-(10**12), 10**12)
leaf = good_number | good_number | any_json  # mostly plausible, so the model gets to run too


def rows_of(features: list[str]):
    names = list(ratios.STATEMENT_FIELDS)
    extra = st.dictionaries(st.sampled_from(["id", "extra", "revenue ", "__proto__"]), any_json, max_size=2)

    def row(fields):  # every field plausible, every field anything, or some fields missing
        return st.builds(
            lambda values, more: {**values, **more},
            st.one_of(
                st.fixed_dictionaries({n: good_number for n in fields}),
                st.fixed_dictionaries({n: leaf for n in fields}),
                st.fixed_dictionaries({}, optional={n: leaf for n in fields}),
            ),
            extra,
        )

    company, instance = row(names), row(features)
    data = st.lists(good_number, min_size=len(features), max_size=len(features)) | st.lists(
        leaf, min_size=len(features) - 1, max_size=len(features) + 1
    )
    return {"companies": company, "instances": instance, "data": data}


def bodies(features: list[str]):
    """Whole bodies: a form with rows whose every value may be anything, or anything at all."""
    forms = rows_of(features)
    well_formed = st.one_of(
        *[
            st.builds(lambda rows, form=form: {form: rows}, st.lists(row | any_json, min_size=0, max_size=4))
            for form, row in forms.items()
        ]
    )
    odd_top = st.dictionaries(st.sampled_from([*FORMS, "rows", ""]), any_json, max_size=3)
    return well_formed | well_formed | odd_top | any_json


def check_documented(response, valid_answer, valid_error) -> dict:
    assert response.status_code in DOCUMENTED, (response.status_code, response.content[:300])
    assert mimetype(response) == "application/json"
    body = json.loads(response.content)  # strict: the answer itself never carries NaN
    if response.status_code == 200:
        errors = [str(e) for e in valid_answer.iter_errors(body)]
    else:
        errors = [str(e) for e in valid_error.iter_errors(body)]
        assert_error_shape(body)
    assert not errors, errors[:2]
    return body


def test_any_json_body_gets_a_documented_answer_matching_the_openapi_schema(client, served_features):
    document = client.get("/openapi.json").json()
    valid_answer, valid_error = schema_validator(document, "PredictResponse"), schema_validator(document, "Error")
    statuses = {}

    @FUZZ
    @given(bodies(served_features))
    @example({"data": [[10**400] * len(served_features)]})
    @example({"data": [[1e300] * len(served_features)]})
    @example({"instances": [{name: -1e300 for name in served_features}]})
    def check(body):
        raw = json.dumps(body, allow_nan=True)  # NaN, Infinity, -Infinity as literals
        response = client.post("/predict", content=raw, headers={"Content-Type": "application/json"})
        answer = check_documented(response, valid_answer, valid_error)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code == 200:
            form = next(iter(body))
            assert len(answer["predictions"]) == len(body[form])

    check()
    print(f"\npredict route fuzzing: {sum(statuses.values())} bodies, statuses {sorted(statuses.items())}")
    assert statuses.get(200) and statuses.get(422)  # the generator reaches both the model and the refusals


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.binary(max_size=64) | st.text(max_size=64).map(str.encode),
    st.sampled_from(
        [
            None,
            "",
            "application/json",
            "text/plain",
            "application/problem+json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "multipart/form-data",
        ]
    ),
)
def test_the_parser_turns_any_bytes_into_json_or_a_400_or_415(raw, content_type):
    try:
        parse_json(raw, content_type)
    except Refusal as error:
        assert status_of(error) in (400, 415)
        assert_error_shape(error.body())


@FUZZ
@given(any_json, st.integers(1, 5))
def test_row_parsing_turns_any_json_into_rows_or_a_422(body, max_batch):
    try:
        rows = parse_rows(body, list(ratios.LEGACY_FEATURES), max_batch)
    except Refusal as error:
        assert status_of(error) == 422
        assert_error_shape(error.body())
    else:
        assert 1 <= len(rows) <= max_batch


def test_arbitrary_bytes_under_any_content_type_get_a_documented_answer(client):
    document = client.get("/openapi.json").json()
    valid_answer, valid_error = schema_validator(document, "PredictResponse"), schema_validator(document, "Error")

    @settings(max_examples=150, derandomize=True, deadline=None)
    @given(st.binary(max_size=200), st.sampled_from(["application/json", "text/plain", "application/x+json"]))
    def check(raw, content_type):
        response = client.post("/predict", content=raw, headers={"Content-Type": content_type})
        check_documented(response, valid_answer, valid_error)

    check()
