"""A company in a batch gets what it would get alone, to the last bit.

Its row: the batch's plain statements have their ratios computed as arrays (payloads.ARRAY_ROWS
and more), the rest one by one, and the two agree, warnings and errors included. Its answer: the
network runs on blocks of one fixed shape (soundness.blocks), so the probability and the
explanation do not depend on what else the request carries, where the company stands in it, or
whether explanations were asked for."""

import numpy as np
import pytest

from helpers import DEFAULT_MODEL, LEGACY_STATEMENT
from soundness import ratios
from soundness_api import payloads

FEATURES = [r.name for r in ratios.RATIOS]
UNKNOWN = payloads.UNKNOWN_WARNING


def varied_companies(count: int, seed: int) -> list:
    """Statements around the worked example, with every kind of trouble a batch meets now and then."""
    rng = np.random.default_rng(seed)
    fields = list(ratios.STATEMENT_FIELDS)
    companies = []
    for i in range(count):
        company = {"id": f"c{i}", **{k: float(v * rng.uniform(0.5, 1.5)) for k, v in LEGACY_STATEMENT.items()}}
        trouble = rng.integers(12)
        field = fields[rng.integers(len(fields))]
        if trouble == 0:
            company[field] = 0.0  # a zero denominator
        elif trouble == 1:
            company[field] = -company[field]  # a negative one
        elif trouble == 2:
            del company[field]  # not given
        elif trouble == 3:
            company[field] = None
        elif trouble == 4:
            company[field] = "12"  # not a number
        elif trouble == 5:
            company[field] = int(company[field])  # an integer is a number too
        elif trouble == 6:
            company["total_equity"] = company["total_assets"] - company["total_liabilities"]  # balances
        elif trouble == 7:
            company[field] = 1e-320  # divides to infinity
        elif trouble == 8:
            company[field] = True  # JSON true is not a number
        elif trouble == 9:
            company[field] = 10**400  # beyond any float
        companies.append(company)
    return companies


@pytest.mark.parametrize("missing", [True, False])
@pytest.mark.parametrize("seed", range(5))
def test_a_company_in_a_batch_gets_the_row_it_gets_alone(seed, missing, monkeypatch):
    body = {"companies": varied_companies(200, seed)}
    as_arrays = payloads.parse_rows(body, FEATURES, 1000, missing)
    monkeypatch.setattr(payloads, "ARRAY_ROWS", len(body["companies"]) + 1)  # every company alone
    one_by_one = payloads.parse_rows(body, FEATURES, 1000, missing)
    assert {type(row) for row in as_arrays} == {payloads.Row, payloads.RowError}
    assert repr(as_arrays) == repr(one_by_one)  # repr: NaN features compare equal, to the last bit


def well_formed_companies(count: int, seed: int) -> list:
    """Only numbers, every field given: a batch read in a few passes over all its values."""
    rng = np.random.default_rng(seed)
    companies = [{k: float(v * rng.uniform(0.5, 1.5)) for k, v in LEGACY_STATEMENT.items()} for _ in range(count)]
    companies[1]["total_equity"] = companies[1]["total_assets"] - companies[1]["total_liabilities"]  # balances
    companies[2]["total_assets"] = 0.0  # a ratio undefined
    companies[3]["revenue"] = int(companies[3]["revenue"])
    companies[4]["net_income"] = -1e300
    return companies


@pytest.mark.parametrize("seed", range(3))
def test_a_batch_of_well_formed_statements_gets_the_rows_its_companies_get_alone(seed, monkeypatch):
    body = {"companies": well_formed_companies(100, seed)}
    as_arrays = payloads.parse_rows(body, FEATURES, 1000, True)
    monkeypatch.setattr(payloads, "ARRAY_ROWS", len(body["companies"]) + 1)
    one_by_one = payloads.parse_rows(body, FEATURES, 1000, True)
    codes = [{w["code"] for w in row.warnings} for row in as_arrays[:3]]
    assert ["balance_mismatch" in c for c in codes] == [True, False, True] and UNKNOWN in codes[2]
    assert repr(as_arrays) == repr(one_by_one)


def test_a_batch_large_enough_is_computed_as_arrays_and_still_names_each_problem():
    companies = varied_companies(payloads.ARRAY_ROWS, 0)
    companies[3]["total_assets"] = 0.0
    rows = payloads.parse_rows({"companies": companies}, FEATURES, 1000, True)
    assert isinstance(rows[0], payloads.Row) and rows[0].ratios == ratios.compute(companies[0]).values
    assert rows[3].ratios["equity_ratio_pct"] is None
    [warning] = [w for w in rows[3].warnings if w["code"] == payloads.UNKNOWN_WARNING]
    assert "total_assets must be greater than 0" in warning["message"]


def test_a_company_gets_the_same_answer_alone_anywhere_in_a_batch_and_with_or_without_explanation(make_client):
    client = make_client(MODEL_DIR=DEFAULT_MODEL)
    company = {k: v for k, v in varied_companies(1, 7)[0].items() if k != "id"}
    others = [{k: v for k, v in c.items() if k != "id"} for c in varied_companies(40, 8)]

    def answers(companies, explain=True):
        body = {"companies": companies, "explain": explain}
        return client.post("/predict", json=body).json()["predictions"]

    [alone] = answers([company])
    assert "explanation" in alone
    for position in (0, 1, 7, 8, 13, 40):
        batch = [*others[:position], company, *others[position:]]
        assert answers(batch)[position] | {"index": 0} == alone  # equal floats: the same bits
    [unexplained] = answers([company], explain=False)
    assert unexplained["probability_unsound"] == alone["probability_unsound"]
