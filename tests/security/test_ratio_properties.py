"""Ratios of any finite statement values: defined and finite, or undefined with the field to blame."""

import math

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from soundness import ratios

FIELDS = list(ratios.STATEMENT_FIELDS)

# Any finite float: zero, negative, subnormal, 1e308; plus the values that break denominators.
any_finite = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1.7976931348623157e308, -1.7976931348623157e308, 1.0, -1.0]
)
statements = st.fixed_dictionaries({name: any_finite for name in FIELDS})
EXTREMES = {name: 1.7976931348623157e308 * (-1) ** i for i, name in enumerate(FIELDS)}
PROPERTY = settings(max_examples=400, derandomize=True, deadline=None)


@PROPERTY
@given(statements)
@example({name: 0.0 for name in FIELDS})
@example(EXTREMES)
@example({name: 5e-324 for name in FIELDS})
def test_every_ratio_is_finite_or_none_with_a_real_field_to_blame(statement):
    result = ratios.compute(statement)
    assert set(result.values) == set(ratios.RATIO_BY_NAME)
    for name, value in result.values.items():
        assert value is None or (isinstance(value, float) and math.isfinite(value)), (name, value)
        assert (value is None) == (name in result.problems)
    for name, (field, problem) in result.problems.items():
        assert field in ratios.STATEMENT_FIELDS and field in ratios.RATIO_BY_NAME[name].fields
        assert isinstance(problem, str) and problem


@PROPERTY
@given(statements)
def test_balance_warnings_are_well_formed_and_name_real_fields(statement):
    for warning in ratios.compute(statement).warnings:
        assert warning["code"] == "balance_mismatch" and warning["message"]
        assert set(warning["fields"]) <= set(ratios.STATEMENT_FIELDS)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(statements)
@example(EXTREMES)
def test_the_table_version_is_undefined_exactly_where_the_single_version_is(statement):
    single = ratios.compute(statement).values
    table = ratios.compute_frame(pd.DataFrame([statement])).iloc[0]
    for name, value in single.items():
        if value is None:
            assert math.isnan(table[name]), name
        else:
            assert table[name] == value, name


# A company's statement in won: amounts from 1,000 won to 1,000조, equity off its balance by `gap`.
won = st.floats(1e3, 1e15)
UNITS = [1, 1e3, 1e6, 1e8, 1e12, 1e15, 1e-3, 1300.0]  # 원 천원 백만원 억원 조원 1e15, a thousandth, USD


@st.composite
def companies_in_won(draw):
    statement = {name: draw(won) * draw(st.sampled_from([1, -1])) for name in FIELDS}
    statement["total_assets"] = abs(statement["total_assets"])
    # The gap as a share of the balance sheet, kept off the tolerance itself, where the last bit
    # of rounding in any unit may fall either way.
    gap = draw(st.floats(-0.5, 0.5).filter(lambda g: abs(abs(g) - ratios.BALANCE_TOLERANCE) > 1e-9))
    size = max(statement["total_assets"], abs(statement["total_liabilities"]))
    statement["total_equity"] = statement["total_assets"] - statement["total_liabilities"] + gap * size
    return statement


@PROPERTY
@given(companies_in_won(), st.sampled_from(UNITS))
@example(
    {
        **{name: 1e9 for name in FIELDS},
        "total_assets": 273842119656,
        "total_liabilities": 186096875465,
        "total_equity": 87745244191 + 0.017 * 273842119656,
    },
    1e12,
)
def test_ratios_and_warnings_do_not_depend_on_the_unit(statement, unit):
    in_won, in_unit = ratios.compute(statement), ratios.compute({k: v / unit for k, v in statement.items()})
    assert [(w["code"], w["fields"]) for w in in_unit.warnings] == [(w["code"], w["fields"]) for w in in_won.warnings]
    assert in_unit.problems == in_won.problems
    for name, value in in_won.values.items():
        assert (value is None) == (in_unit.values[name] is None), name
        if value is not None:
            assert math.isclose(in_unit.values[name], value, rel_tol=1e-9, abs_tol=1e-9), name
