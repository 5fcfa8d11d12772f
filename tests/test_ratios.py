"""The ratio module: what the API, training and evaluation all compute from statements."""

import math

import pandas as pd
import pytest

from helpers import LEGACY_STATEMENT
from soundness import ratios


def with_(**changes):
    return {**LEGACY_STATEMENT, **changes}


def test_the_five_model_ratios_equal_the_legacy_pages_values(legacy_example):
    result = ratios.compute(legacy_example["statement"])
    assert list(ratios.LEGACY_FEATURES) == legacy_example["ratio_names"]
    for name, expected in zip(legacy_example["ratio_names"], legacy_example["ratios"]):
        assert result.values[name] == pytest.approx(expected, rel=1e-9)
    assert result.problems == {} and result.warnings == []


def test_display_ratios_follow_their_textbook_definitions():
    values = ratios.compute(LEGACY_STATEMENT).values
    s = LEGACY_STATEMENT
    assert values["debt_ratio_pct"] == pytest.approx(s["total_liabilities"] / s["total_equity"] * 100)
    assert values["net_margin_pct"] == pytest.approx(s["net_income"] / s["revenue"] * 100)
    assert values["roa_pct"] == pytest.approx(s["net_income"] / s["total_assets"] * 100)
    assert values["operating_income_growth_pct"] == pytest.approx(
        (s["operating_income"] - s["operating_income_prior"]) / s["operating_income_prior"] * 100
    )


def test_every_ratio_has_korean_and_english_names_and_known_fields():
    for ratio in ratios.RATIOS:
        assert ratio.ko and ratio.en
        assert set(ratio.fields) <= set(ratios.STATEMENT_FIELDS)


def test_growth_from_a_negative_prior_divides_by_its_absolute_value():
    # operating loss of 100 turning into a profit of 50 is growth, not decline
    values = ratios.compute(with_(operating_income=50, operating_income_prior=-100)).values
    assert values["operating_income_growth_pct"] == pytest.approx(150.0)


@pytest.mark.parametrize(
    "field, value, blamed_ratios",
    [
        ("revenue_prior", 0, {"revenue_growth_pct"}),
        ("revenue_prior", -5, {"revenue_growth_pct"}),
        (
            "total_assets",
            0,
            {"equity_ratio_pct", "total_asset_turnover", "liabilities_to_assets_pct", "roa_pct", "operating_roa_pct"},
        ),
        ("total_assets_prior", -1, {"total_asset_growth_pct"}),
        ("revenue", 0, {"operating_margin_pct", "net_margin_pct"}),
    ],
)
def test_a_zero_or_meaningless_denominator_is_a_problem_naming_the_field(field, value, blamed_ratios):
    result = ratios.compute(with_(**{field: value}))
    assert set(result.problems) >= blamed_ratios
    for name in blamed_ratios:
        blamed_field, problem = result.problems[name]
        assert (blamed_field, problem) == (field, "must be greater than 0")
        assert result.values[name] is None
    assert ratios.problem_text("must be greater than 0", ["a", "b"]) == "must be greater than 0 to compute a and b"


def test_display_only_ratios_become_none_rather_than_errors_for_the_caller_to_judge():
    result = ratios.compute(with_(total_equity=-10, total_liabilities=273842119666))
    assert result.values["debt_ratio_pct"] is None  # negative equity: a debt ratio means nothing
    assert result.values["equity_ratio_pct"] < 0  # but the model's equity ratio is still defined


def test_zero_prior_operating_income_leaves_growth_undefined():
    result = ratios.compute(with_(operating_income_prior=0))
    assert result.values["operating_income_growth_pct"] is None
    assert result.problems["operating_income_growth_pct"][0] == "operating_income_prior"


def test_overflowing_ratios_are_reported_not_returned_as_infinity():
    result = ratios.compute(with_(revenue=1e300, revenue_prior=1e-300))
    assert result.values["revenue_growth_pct"] is None
    assert "revenue_growth_pct" in result.problems


def test_a_denominator_so_close_to_zero_that_the_ratio_overflows_is_said_to_be_so():
    result = ratios.compute(with_(total_assets=1e-320))
    assert result.problems["equity_ratio_pct"] == ("total_assets", "is too close to 0")
    assert result.problems["total_asset_turnover"] == ("total_assets", "is too close to 0")


@pytest.mark.parametrize("unit", [1, 1e3, 1e6, 1e8, 1e12, 1e15])
def test_the_balance_check_gives_the_same_answer_in_every_unit(unit):
    # 원, 천원, 백만원, 억원, 조원 and 1e15: a 1.7 % gap is a gap in all of them, 0.1 % in none.
    for gap, warned in ((0.017, True), (0.001, False)):
        statement = with_(total_equity=LEGACY_STATEMENT["total_equity"] + gap * LEGACY_STATEMENT["total_assets"])
        in_unit = {name: value / unit for name, value in statement.items()}
        assert bool(ratios.compute(in_unit).warnings) == warned, (unit, gap)


def test_a_balance_sheet_that_does_not_balance_is_reported_and_equity_used_as_given():
    result = ratios.compute(with_(total_equity=50_000_000_000))
    assert [w["code"] for w in result.warnings] == ["balance_mismatch"]
    assert "total_equity" in result.warnings[0]["fields"]
    assert result.values["equity_ratio_pct"] == pytest.approx(50_000_000_000 / LEGACY_STATEMENT["total_assets"] * 100)


def test_rounding_sized_gaps_in_the_balance_are_not_reported():
    assert ratios.compute(with_(total_equity=LEGACY_STATEMENT["total_equity"] + 1000)).warnings == []


def test_the_table_version_agrees_with_the_single_company_version():
    rows = [LEGACY_STATEMENT, with_(revenue_prior=0), with_(operating_income_prior=-3, total_equity=-1)]
    table = ratios.compute_frame(pd.DataFrame(rows))
    for i, row in enumerate(rows):
        single = ratios.compute(row).values
        for name, value in single.items():
            cell = table.loc[i, name]
            assert (value is None and math.isnan(cell)) or cell == pytest.approx(value, rel=1e-12)


def test_the_table_version_can_compute_a_chosen_subset_in_the_given_order():
    table = ratios.compute_frame(pd.DataFrame([LEGACY_STATEMENT]), names=list(reversed(ratios.LEGACY_FEATURES)))
    assert list(table.columns) == list(reversed(ratios.LEGACY_FEATURES))


def test_prior_year_and_trend_ratios_follow_their_definitions():
    values = ratios.compute(LEGACY_STATEMENT).values
    s = LEGACY_STATEMENT
    prior_roa = s["operating_income_prior"] / s["total_assets_prior"] * 100
    assert values["prior_operating_roa_pct"] == pytest.approx(prior_roa)
    assert values["prior_total_asset_turnover"] == pytest.approx(s["revenue_prior"] / s["total_assets_prior"])
    assert values["prior_operating_margin_pct"] == pytest.approx(s["operating_income_prior"] / s["revenue_prior"] * 100)
    assert values["non_operating_to_assets_pct"] == pytest.approx(
        (s["net_income"] - s["operating_income"]) / s["total_assets"] * 100
    )
    assert values["operating_roa_change_pp"] == pytest.approx(
        s["operating_income"] / s["total_assets"] * 100 - prior_roa
    )


def test_a_ratio_with_two_denominators_blames_the_one_that_breaks():
    result = ratios.compute(with_(total_assets_prior=0))
    assert result.problems["operating_roa_change_pp"][0] == "total_assets_prior"
    assert result.values["operating_roa_pct"] is not None


def test_a_field_not_given_leaves_only_the_ratios_that_need_it_unknown():
    statement = {k: v for k, v in LEGACY_STATEMENT.items() if not k.endswith("_prior")}
    result = ratios.compute(statement)
    needs_prior = {r.name for r in ratios.RATIOS if any(f.endswith("_prior") for f in r.fields)}
    assert {n for n, v in result.values.items() if v is None} == needs_prior
    assert result.problems["revenue_growth_pct"] == ("revenue_prior", ratios.NOT_GIVEN)
    assert ratios.compute({**statement, "total_equity": None}).warnings == []


# ---------------------------------------------------------------- what mutation testing found unpinned


def test_a_sheet_of_zero_assets_and_liabilities_with_equity_is_reported_as_wholly_unbalanced():
    """No size to take a share of: the message says the whole of equity is the gap, and names
    the three fields in the order clients show them."""
    [warning] = ratios.balance_warning(0.0, 0.0, 5.0)
    assert warning["code"] == "balance_mismatch"
    assert warning["fields"] == ["total_equity", "total_assets", "total_liabilities"]
    assert "by the whole of total_equity, with total_assets and total_liabilities both 0;" in warning["message"]
    assert ratios.balance_warning(0.0, 0.0, 0.0) == []


@pytest.mark.parametrize("missing", ratios.BALANCE_FIELDS)
def test_the_balance_is_not_checked_when_any_one_of_its_three_fields_is_not_given(missing):
    assert ratios.compute(with_(**{missing: None})).warnings == []


@pytest.mark.filterwarnings("error")  # a division by zero in the arrays is masked, never warned
@pytest.mark.parametrize("value", [0.0, -1.0])
@pytest.mark.parametrize(("field", "rule"), ratios.DENOMINATORS)
def test_the_table_version_blanks_a_ratio_whichever_of_its_denominators_breaks_its_rule(field, rule, value):
    """Each denominator alone at 0 (breaks every rule) or below it (breaks "positive" with a
    finite quotient): the table is NaN exactly where the single-company version reports a
    problem, and the other ratios keep their values."""
    row = with_(**{field: value})
    single = ratios.compute(row)
    assert value < 0 or single.problems, (field, rule)
    table = ratios.compute_frame(pd.DataFrame([row], index=["company"]))
    assert list(table.index) == ["company"]  # the caller's index kept: training joins on it
    for name, value in single.values.items():
        cell = table.loc["company", name]
        assert (value is None and math.isnan(cell)) or cell == pytest.approx(value, rel=1e-12), name
