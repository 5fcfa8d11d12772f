"""The labelled ratio tables: label rules, prior-year rules, and the two loaders' column mapping.

Small hand-made files in the real files' layouts; the last test reads the real data (skips without it).
"""

import gzip
import math

import pandas as pd
import pytest

from helpers import SHARED, need_shared
from soundness.ratios import LEGACY_FEATURES, compute_frame
from training import data

US_HEADER = ["company_name", "status_label", "year"] + [f"X{i}" for i in range(1, 19)] + ["src"]


def us_row(company, status, year, assets=100.0, liabilities=60.0, revenue=80.0, ebit=8.0, net=5.0):
    values = {f"X{i}": 1.0 for i in range(1, 19)}
    values.update(X10=assets, X17=liabilities, X16=revenue, X12=ebit, X6=net)
    return [company, status, year] + [values[f"X{i}"] for i in range(1, 19)] + ["A"]


def write_us(tmp_path, rows):
    path = tmp_path / data.US_FILE
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as handle:
        pd.DataFrame(rows, columns=US_HEADER).to_csv(handle, index=False)
    return data.load_us(tmp_path)


def write_kr(tmp_path, rows):
    path = tmp_path / data.KR_FILE
    path.parent.mkdir(parents=True)
    columns = [
        "corp_code",
        "company_name",
        "stock_code",
        "fiscal_year",
        "revenue",
        "operating_income",
        "net_income",
        "total_assets",
        "total_liabilities",
        "total_equity",
        "distress_delisting_next",
        "distress_delisting_within_24m",
        "after_delisting",
    ]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return data.load_kr(tmp_path)


@pytest.fixture
def us_table(tmp_path):
    return write_us(
        tmp_path,
        [
            us_row("C_1", "failed", 2001),
            us_row("C_1", "failed", 2002),
            us_row("C_1", "failed", 2003),
            us_row("C_2", "alive", 2001),
            us_row("C_2", "alive", 2002),
            us_row("C_3", "alive", 2001, assets=100.0),
            us_row("C_3", "alive", 2003, assets=150.0),
        ],
    )


def row(table, company, year):
    frame = table.frame
    match = frame[(frame["company"] == company) & (frame["year"] == year)]
    assert len(match) == 1
    return match.iloc[0]


def test_a_failed_company_is_labelled_1_on_its_last_year_only(us_table):
    assert row(us_table, "C_1", 2003)["label"] == 1


def test_earlier_years_of_a_failed_company_are_kept_as_0_and_counted(us_table):
    failed = us_table.frame[us_table.frame["company"] == "C_1"].set_index("year")["label"]
    assert failed.to_dict() == {2001: 0, 2002: 0, 2003: 1}
    assert us_table.facts["earlier_rows_of_failed_companies_labelled_0"] == 2


def test_every_year_of_an_alive_company_is_labelled_0(us_table):
    alive = us_table.frame[us_table.frame["company"].isin(["C_2", "C_3"])]
    assert len(alive) == 4 and (alive["label"] == 0).all()


def test_a_failed_companys_earlier_year_serves_as_the_prior_year_of_its_last_row(us_table):
    assert row(us_table, "C_1", 2003)["total_assets_prior"] == 100.0
    assert not math.isnan(row(us_table, "C_1", 2003)["revenue_growth_pct"])


def test_a_gap_year_makes_the_growth_ratios_unknown_not_computed_across_two_years(us_table):
    after_gap = row(us_table, "C_3", 2003)
    assert math.isnan(after_gap["total_assets_prior"])
    for name in ("revenue_growth_pct", "total_asset_growth_pct", "operating_income_growth_pct"):
        assert math.isnan(after_gap[name])
    assert not math.isnan(after_gap["equity_ratio_pct"])


def test_the_first_year_of_a_company_has_no_growth_ratios(us_table):
    assert math.isnan(row(us_table, "C_2", 2001)["revenue_growth_pct"])


def test_us_columns_map_to_the_statement_fields_and_equity_is_assets_minus_liabilities(us_table):
    last = row(us_table, "C_2", 2002)
    assert (last["total_assets"], last["total_liabilities"], last["total_equity"]) == (100.0, 60.0, 40.0)
    assert (last["revenue"], last["operating_income"], last["net_income"]) == (80.0, 8.0, 5.0)


def test_table_ratios_are_those_of_the_ratio_module(us_table):
    expected = compute_frame(us_table.frame)
    pd.testing.assert_frame_equal(us_table.frame[list(expected.columns)], expected)


def test_splits_are_by_fiscal_year(us_table):
    assert set(us_table.split("train")["year"]) <= set(range(1999, 2012))
    assert len(us_table.split("validation")) == 0


def test_kr_prior_year_is_the_same_corp_codes_previous_fiscal_year_only(tmp_path):
    table = write_kr(
        tmp_path,
        [
            ["00100", "가", "001", 2019, 100.0, 10.0, 5.0, 200.0, 120.0, 80.0, 0, 0, 0],
            ["00100", "가", "001", 2020, 150.0, 12.0, 6.0, 250.0, 150.0, 100.0, 1, 1, 0],
            ["00200", "나", "002", 2019, 900.0, 90.0, 50.0, 999.0, 500.0, 499.0, 0, 0, 0],
            ["00200", "나", "002", 2021, 300.0, 30.0, 20.0, 400.0, 100.0, 300.0, 0, 0, 0],
        ],
    )
    followed = row(table, "00100", 2020)
    assert followed["revenue_prior"] == 100.0 and followed["revenue_growth_pct"] == pytest.approx(50.0)
    assert followed["label"] == 1
    assert math.isnan(row(table, "00200", 2021)["total_asset_growth_pct"])  # 2020 is missing
    assert table.facts["rows_without_prior_year"] == 3


def test_kr_is_labelled_by_a_distress_delisting_within_24_months_and_leaves_out_statements_after_it(tmp_path):
    table = write_kr(
        tmp_path,
        [
            ["00100", "가", "001", 2018, 100.0, 10.0, 5.0, 200.0, 120.0, 80.0, 0, 0, 0],
            # delisted in 2021: its 2019 statements are the last before, the old label marked 2020's
            ["00100", "가", "001", 2019, 100.0, 10.0, 5.0, 200.0, 120.0, 80.0, 0, 1, 0],
            ["00100", "가", "001", 2020, 100.0, 10.0, 5.0, 200.0, 120.0, 80.0, 1, 0, 0],
            ["00100", "가", "001", 2021, 100.0, 10.0, 5.0, 200.0, 120.0, 80.0, 0, 0, 1],
        ],
    )
    assert table.frame.set_index("year")["label"].to_dict() == {2018: 0, 2019: 1, 2020: 0}
    assert table.facts["after_delisting_rows_left_out"] == 1


def test_kr_keeps_the_filed_equity_rather_than_deriving_it(tmp_path):
    table = write_kr(tmp_path, [["00100", "가", "001", 2020, 150.0, 12.0, 6.0, 250.0, 150.0, 90.0, 0, 0, 0]])
    assert row(table, "00100", 2020)["equity_ratio_pct"] == pytest.approx(36.0)


@pytest.mark.data
def test_real_us_data_gives_each_failed_company_exactly_one_positive():
    need_shared(SHARED / "data" / data.US_FILE)
    table = data.load_us(SHARED / "data")
    positives = table.frame[table.frame["label"] == 1]
    assert positives["company"].is_unique
    assert len(positives) == 609 and table.facts["earlier_rows_of_failed_companies_labelled_0"] == 4569
    test_rows = table.split("test").dropna(subset=list(LEGACY_FEATURES))
    assert int(test_rows["label"].sum()) == 116


@pytest.mark.data
def test_real_kr_data_has_69_positives_and_no_statement_filed_after_a_delisting():
    need_shared(SHARED / "data" / data.KR_FILE)
    table = data.load_kr(SHARED / "data")
    assert int(table.frame["label"].sum()) == 69 and table.facts["after_delisting_rows_left_out"] == 87
