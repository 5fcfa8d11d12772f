"""A company in a batch gets the row it would get alone: the batch's plain statements have their
ratios computed as arrays (payloads.ARRAY_ROWS and more), the rest one by one, and the two agree
to the last bit, warnings and errors included."""

import numpy as np
import pytest

from api import payloads
from helpers import LEGACY_STATEMENT
from soundness import ratios

FEATURES = [r.name for r in ratios.RATIOS]


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


def test_a_batch_large_enough_is_computed_as_arrays_and_still_names_each_problem():
    companies = varied_companies(payloads.ARRAY_ROWS, 0)
    companies[3]["total_assets"] = 0.0
    rows = payloads.parse_rows({"companies": companies}, FEATURES, 1000, True)
    assert isinstance(rows[0], payloads.Row) and rows[0].ratios == ratios.compute(companies[0]).values
    assert rows[3].ratios["equity_ratio_pct"] is None
    [warning] = [w for w in rows[3].warnings if w["code"] == payloads.UNKNOWN_WARNING]
    assert "total_assets must be greater than 0" in warning["message"]
