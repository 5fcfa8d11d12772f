"""Financial ratios from statement values: the project's one source of truth.

The API derives ratios from the nine statement fields a person types, training derives
the same ratios from the US data set, evaluation from the Korean one. All of them call
this module, so a formula exists exactly once. Every formula works on plain floats (one
company, checked field by field) and on numpy arrays or pandas Series (a whole data
set at once, where an undefined ratio becomes NaN).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

# The nine statement inputs, in the order of the legacy service's form, with its Korean labels.
STATEMENT_FIELDS: dict[str, dict[str, str]] = {
    "total_assets": {"ko": "당기 자산총계", "en": "Total assets (current year)"},
    "total_assets_prior": {"ko": "전기 자산총계", "en": "Total assets (prior year)"},
    "total_liabilities": {"ko": "부채총계", "en": "Total liabilities"},
    "total_equity": {"ko": "자본총계", "en": "Total equity"},
    "revenue": {"ko": "당기 수익(매출액)", "en": "Revenue (current year)"},
    "revenue_prior": {"ko": "전기 수익(매출액)", "en": "Revenue (prior year)"},
    "operating_income": {"ko": "당기 영업이익", "en": "Operating income (current year)"},
    "operating_income_prior": {"ko": "전기 영업이익", "en": "Operating income (prior year)"},
    "net_income": {"ko": "당기순이익", "en": "Net income (current year)"},
}

POSITIVE = "positive"  # denominator must be > 0: a negative one makes the ratio meaningless
NONZERO = "nonzero"  # denominator may be negative (its absolute value is used), not zero


class Rule(NamedTuple):
    holds: Callable[[Any], Any]  # of one number, or elementwise of a numpy array of them
    problem: str  # said of the field when it does not hold


# The one statement of each rule, for one company (`compute`) and for many (`compute_columns`).
RULES: dict[str, Rule] = {
    POSITIVE: Rule(lambda value: value > 0, "must be greater than 0"),
    NONZERO: Rule(lambda value: value != 0, "must not be 0"),
}


@dataclass(frozen=True)
class Ratio:
    name: str
    ko: str
    en: str
    numerator_fields: tuple[str, ...]
    denominators: tuple[tuple[str, str], ...]  # (field, rule): each must hold for the ratio to exist
    formula: Callable[[Any], Any]

    @cached_property  # asked 16 times a company: built once
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.numerator_fields + tuple(f for f, _ in self.denominators)))


def _growth(current: str, prior: str) -> Callable[[Any], Any]:
    # abs(prior): growth of a quantity that can be negative keeps its sign meaningful.
    return lambda v: (v[current] - v[prior]) / abs(v[prior]) * 100


def _share(part: str, whole: str, scale: float = 100) -> Callable[[Any], Any]:
    if scale == 1:
        return lambda v: v[part] / v[whole]
    return lambda v: v[part] / v[whole] * scale


def _ratio(name, ko, en, numerator, denominator, rule, formula) -> Ratio:
    return Ratio(name, ko, en, tuple(numerator), ((denominator, rule),), formula)


RATIOS: tuple[Ratio, ...] = (
    # The legacy five, in the legacy order (its model took them as a positional list).
    _ratio(
        "revenue_growth_pct",
        "매출액증가율",
        "Revenue growth (%)",
        ["revenue"],
        "revenue_prior",
        POSITIVE,
        _growth("revenue", "revenue_prior"),
    ),
    _ratio(
        "total_asset_growth_pct",
        "총자산증가율",
        "Total asset growth (%)",
        ["total_assets"],
        "total_assets_prior",
        POSITIVE,
        _growth("total_assets", "total_assets_prior"),
    ),
    _ratio(
        "operating_margin_pct",
        "매출액영업이익률",
        "Operating margin (%)",
        ["operating_income"],
        "revenue",
        POSITIVE,
        _share("operating_income", "revenue"),
    ),
    _ratio(
        "equity_ratio_pct",
        "자기자본비율",
        "Equity ratio (%)",
        ["total_equity"],
        "total_assets",
        POSITIVE,
        _share("total_equity", "total_assets"),
    ),
    _ratio(
        "total_asset_turnover",
        "총자산회전율",
        "Total asset turnover (times)",
        ["revenue"],
        "total_assets",
        POSITIVE,
        _share("revenue", "total_assets", scale=1),
    ),
    # What a reader of a result also expects to see.
    _ratio(
        "debt_ratio_pct",
        "부채비율",
        "Debt ratio (%)",
        ["total_liabilities"],
        "total_equity",
        POSITIVE,
        _share("total_liabilities", "total_equity"),
    ),
    _ratio(
        "liabilities_to_assets_pct",
        "부채자산비율",
        "Liabilities to assets (%)",
        ["total_liabilities"],
        "total_assets",
        POSITIVE,
        _share("total_liabilities", "total_assets"),
    ),
    _ratio(
        "net_margin_pct",
        "매출액순이익률",
        "Net margin (%)",
        ["net_income"],
        "revenue",
        POSITIVE,
        _share("net_income", "revenue"),
    ),
    _ratio(
        "roa_pct",
        "총자산순이익률(ROA)",
        "Return on assets (%)",
        ["net_income"],
        "total_assets",
        POSITIVE,
        _share("net_income", "total_assets"),
    ),
    _ratio(
        "operating_roa_pct",
        "총자산영업이익률",
        "Operating income to assets (%)",
        ["operating_income"],
        "total_assets",
        POSITIVE,
        _share("operating_income", "total_assets"),
    ),
    _ratio(
        "operating_income_growth_pct",
        "영업이익증가율",
        "Operating income growth (%)",
        ["operating_income"],
        "operating_income_prior",
        NONZERO,
        _growth("operating_income", "operating_income_prior"),
    ),
    # The year before, and the change since: a company on its way down shows it in the trend.
    _ratio(
        "prior_operating_roa_pct",
        "전기 총자산영업이익률",
        "Prior-year operating income to assets (%)",
        ["operating_income_prior"],
        "total_assets_prior",
        POSITIVE,
        _share("operating_income_prior", "total_assets_prior"),
    ),
    _ratio(
        "prior_total_asset_turnover",
        "전기 총자산회전율",
        "Prior-year total asset turnover (times)",
        ["revenue_prior"],
        "total_assets_prior",
        POSITIVE,
        _share("revenue_prior", "total_assets_prior", scale=1),
    ),
    _ratio(
        "prior_operating_margin_pct",
        "전기 매출액영업이익률",
        "Prior-year operating margin (%)",
        ["operating_income_prior"],
        "revenue_prior",
        POSITIVE,
        _share("operating_income_prior", "revenue_prior"),
    ),
    _ratio(
        "non_operating_to_assets_pct",
        "영업외손익 총자산비율",
        "Net minus operating income, to assets (%)",
        ["net_income", "operating_income"],
        "total_assets",
        POSITIVE,
        lambda v: (v["net_income"] - v["operating_income"]) / v["total_assets"] * 100,
    ),
    Ratio(
        "operating_roa_change_pp",
        "총자산영업이익률 변화(%p)",
        "Change in operating income to assets (percentage points)",
        ("operating_income", "operating_income_prior"),
        (("total_assets", POSITIVE), ("total_assets_prior", POSITIVE)),
        lambda v: (
            (v["operating_income"] / v["total_assets"] - v["operating_income_prior"] / v["total_assets_prior"]) * 100
        ),
    ),
)

RATIO_BY_NAME: dict[str, Ratio] = {r.name: r for r in RATIOS}

# The legacy model's inputs, in its order: what `{"data": [[...]]}` rows carry.
LEGACY_FEATURES: tuple[str, ...] = tuple(r.name for r in RATIOS[:5])

# Relative gap between total_equity and total_assets - total_liabilities that rounding
# of typed amounts explains; beyond it the statement does not balance and we say so.
BALANCE_TOLERANCE = 0.005


def denominator_problem(rule: str, value: float) -> str | None:
    """What is wrong with `value` as a denominator under `rule`, or None when it can divide.

    Said of the field, without the ratio: `problem_text` names the ratios it breaks."""
    holds, problem = RULES[rule]
    return None if holds(value) else problem


# A denominator so near 0 (1e-320, say) that the quotient overflows to infinity.
TOO_CLOSE_TO_ZERO = "is too close to 0"
# A field left out (or null): the ratios that need it are unknown.
NOT_GIVEN = "was not given"


def problem_text(problem: str, ratio_names: list[str]) -> str:
    """A field's problem and the ratios it breaks: 'must be greater than 0 to compute a and b'."""
    return f"{problem} to compute {' and '.join(ratio_names)}"


@dataclass
class RatioResult:
    values: dict[str, float | None]  # every ratio, None where it is undefined
    problems: dict[str, tuple[str, str]]  # ratio name -> (field to blame, its problem)
    warnings: list[dict[str, Any]]


# Every (field, rule) some ratio divides by: each is judged once per company, not once per ratio.
DENOMINATORS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys(d for r in RATIOS for d in r.denominators))


def _field_problems(statement: Mapping[str, float | None]) -> dict[Any, tuple[str, str]]:
    """What keeps a field from serving: by field name when it was not given, by (field, rule)
    when it cannot divide under the rule."""
    problems: dict[Any, tuple[str, str]] = {
        name: (name, NOT_GIVEN) for name in STATEMENT_FIELDS if statement.get(name) is None
    }
    for name, rule in DENOMINATORS:
        value = statement.get(name)
        if value is not None and (problem := denominator_problem(rule, value)):
            problems[name, rule] = (name, problem)
    return problems


def _problem(ratio: Ratio, problems: dict[Any, tuple[str, str]]) -> tuple[str, str] | None:
    """The first field keeping this ratio from existing: one not given, else a bad denominator."""
    for key in (*ratio.fields, *ratio.denominators):
        if key in problems:
            return problems[key]
    return None


def compute(statement: Mapping[str, float | None]) -> RatioResult:
    """All ratios of one company; a field absent or None leaves the ratios that need it unknown.

    The caller decides which undefined ones are errors.
    """
    values: dict[str, float | None] = {}
    problems: dict[str, tuple[str, str]] = {}
    fields = _field_problems(statement)
    for ratio in RATIOS:
        problem = _problem(ratio, fields) if fields else None
        value = None if problem else ratio.formula(statement)
        if value is not None and not math.isfinite(value):
            problem, value = (ratio.denominators[0][0], TOO_CLOSE_TO_ZERO), None
        values[ratio.name] = value
        if problem:
            problems[ratio.name] = problem
    return RatioResult(values, problems, balance_warnings(statement))


def balance_warnings(statement: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """Report (never repair) a balance sheet whose equity is not assets minus liabilities."""
    assets, liabilities, equity = (statement.get(f) for f in BALANCE_FIELDS)
    if assets is None or liabilities is None or equity is None:
        return []
    return balance_warning(assets, liabilities, equity)


# What the balance check reads, in the order balance_warning takes them.
BALANCE_FIELDS = ("total_assets", "total_liabilities", "total_equity")


def balance_warning(assets: float, liabilities: float, equity: float) -> list[dict[str, Any]]:
    """`balance_warnings` of three given values. The gap is judged relative to the balance
    sheet's own size, so the same company gets the same answer in won, thousands, millions, 조
    or any other unit."""
    gap, size = _gap_and_size(assets, liabilities, equity, max)
    if not math.isfinite(gap) or _balances(gap, size):
        return []
    share = (
        f"{gap / size:.2%} of the larger of total_assets and total_liabilities"
        if size
        else ("the whole of total_equity, with total_assets and total_liabilities both 0")
    )
    return [
        {
            "code": "balance_mismatch",
            "fields": ["total_equity", "total_assets", "total_liabilities"],
            "message": (
                f"total_equity differs from total_assets - total_liabilities by {share}; total_equity was used as given"
            ),
        }
    ]


def _gap_and_size(assets: Any, liabilities: Any, equity: Any, larger: Callable) -> tuple[Any, Any]:
    """How far equity is from assets - liabilities, and the sheet's size (the larger of |assets|
    and |liabilities|): of three numbers with `larger` = max, of three arrays with np.maximum."""
    return equity - (assets - liabilities), larger(abs(assets), abs(liabilities))


def _balances(gap: Any, size: Any) -> Any:
    """Whether rounding of typed amounts explains the gap (elementwise for arrays)."""
    return abs(gap) <= BALANCE_TOLERANCE * size


def maybe_unbalanced(columns: Mapping[str, Any]) -> Any:
    """For many companies (numpy arrays of finite values): which may get a `balance_warning`. A
    cheap sieve in array arithmetic, the same as `balance_warning`'s; it decides, and writes the
    message."""
    import numpy as np

    assets, liabilities, equity = (columns[name] for name in BALANCE_FIELDS)
    return ~_balances(*_gap_and_size(assets, liabilities, equity, np.maximum))


def compute_columns(columns: Mapping[str, Any], names: Any = None) -> dict[str, Any]:
    """Ratios of many companies at once, each statement field a numpy float array (NaN: not given).

    Returns an array per ratio, NaN exactly where `compute` reports a problem: a field NaN, a
    denominator breaking its rule, or a result that is not finite.
    """
    import numpy as np

    chosen = [RATIO_BY_NAME[n] for n in names] if names is not None else list(RATIOS)
    out = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for ratio in chosen:
            value = ratio.formula(columns)
            valid = np.isfinite(value)
            for name, rule in ratio.denominators:
                valid &= RULES[rule].holds(columns[name])
            out[ratio.name] = np.where(valid, value, np.nan)
    return out


def compute_frame(frame: Any, names: Any = None) -> Any:
    """`compute_columns` for a table (a pandas DataFrame with the statement columns), as a DataFrame."""
    import pandas as pd

    columns = {name: frame[name].to_numpy(float) for name in STATEMENT_FIELDS if name in frame}
    return pd.DataFrame(compute_columns(columns, names), index=frame.index)
