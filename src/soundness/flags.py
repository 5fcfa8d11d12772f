"""Red flags a Korean analyst checks first, read from the statement values beside the model.

A flag never changes the model's probability, grade or class: it is a rule anyone can check by
hand on the statements, with where the rule comes from. Each one is here because a rule stands
behind it (docs/meaning.md says which, with the figures measured on the Korean companies). The
listing floors (revenue on KOSPI and KOSDAQ, equity on KOSDAQ) are amounts in won for one
market's rules, so they are checked only when the company says its currency is KRW and its market
(the DART lookup knows both); every other flag is a ratio or a sign, the same in any unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the request parser reads this module's names in the server's master: no numpy there
    import numpy as np

# What a company may say of itself beside its statement values (optional), and the values known.
CURRENCY = "currency"  # ISO 4217, e.g. "KRW"
MARKET = "market"
MARKETS = ("KOSPI", "KOSDAQ", "KONEX", "OTHER")  # DART's corp_cls Y, K, N, E

KOSPI_RULES = "유가증권시장 상장규정"
KOSDAQ_RULES = "코스닥시장 상장규정"
# The 관리종목 revenue floors in force for fiscal years up to 2026, in won. From 2027 they rise
# in steps (KOSPI 100억, 200억, 300억 by 2029; KOSDAQ 50억, 75억, 100억), with companies above a
# market capitalisation exempt (FSC, 「IPO 및 상장폐지 제도개선 방안」, 2025-01-21).
REVENUE_FLOORS = {"KOSPI": 5_000_000_000, "KOSDAQ": 3_000_000_000}
EQUITY_FLOORS = {"KOSDAQ": 1_000_000_000}  # 관리종목 below 10억 won of equity (KOSPI has none)
FLOORS = {"revenue": REVENUE_FLOORS, "total_equity": EQUITY_FLOORS}


@dataclass(frozen=True)
class Flag:
    code: str
    ko: str
    en: str
    rule: str
    source: str  # the rule's home, short: every flagged row carries it
    note: str  # what the source says, at length: GET /model and docs/meaning.md
    # Of the statement columns (numpy arrays, NaN where not given) and the listing floors that
    # apply to each company (`floors`: arrays in won, NaN where none applies): which it flags.
    # The same function takes one company's plain floats (`company_flags`) and gives a bool.
    holds: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]

    def card(self) -> dict[str, str]:
        """The flag as an answer's row carries it."""
        return {"code": self.code, "ko": self.ko, "en": self.en, "rule": self.rule, "source": self.source}

    def described(self) -> dict[str, str]:
        """The flag as GET /model lists it: with its note."""
        return {**self.card(), "note": self.note}


def _debt_ratio_above(times: float) -> Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], np.ndarray]:
    # Liabilities above `times` the equity, for a positive equity (else the debt ratio has no meaning
    # and capital_erosion speaks): liabilities > times x equity needs no division.
    return lambda v, floor: (v["total_equity"] > 0) & (v["total_liabilities"] > times * v["total_equity"])


FLAGS: tuple[Flag, ...] = (
    Flag(
        "capital_erosion",
        "완전자본잠식: 자본총계가 0 이하입니다",
        "Full capital erosion: total equity is zero or negative",
        "total_equity <= 0",
        f"{KOSPI_RULES} 제48조, {KOSDAQ_RULES} 제54조 (상장폐지: 자본전액잠식)",
        f"{KOSPI_RULES} 제48조(상장폐지): 최근 사업연도 말 자본금 전액 잠식; "
        f"{KOSDAQ_RULES} 제54조(상장폐지): 최근 사업연도 말 자본전액잠식 "
        "(자본잠식률 (자본금 - 자본총계) / 자본금이 100 % 이상, 곧 자본총계 0 이하). "
        "자본잠식률 50 % 이상은 관리종목(유가 제47조, 코스닥 제53조)이나 자본금이 필요해 여기서는 판단하지 않음",
        lambda v, floor: v["total_equity"] <= 0,
    ),
    Flag(
        "operating_losses",
        "영업손실이 당기와 전기 2년 연속입니다",
        "Operating losses in both years given (this year and the prior year)",
        "operating_income < 0 and operating_income_prior < 0",
        f"{KOSDAQ_RULES} 제53조 (관리종목: 4사업연도 연속 영업손실, 2009-2022)",
        f"{KOSDAQ_RULES} 제53조(관리종목, 2009-2022): 최근 4사업연도 연속 영업손실이면 관리종목, 5년 연속이면 "
        "상장적격성 실질심사; 2022-12 개정으로 폐지. 여기서는 주어진 2년만 보므로 그런 연속 손실의 시작을 알릴 뿐 "
        "KRX 요건 그 자체는 아님",
        lambda v, floor: (v["operating_income"] < 0) & (v["operating_income_prior"] < 0),
    ),
    Flag(
        "debt_ratio_above_200",
        "부채비율이 200 %를 넘습니다",
        "Debt ratio above 200 % (liabilities more than twice the equity)",
        "total_equity > 0 and total_liabilities / total_equity > 2",
        "재무구조개선약정의 부채비율 200 % 기준 (1998)",
        "1998-12 5대 그룹과 주채권은행의 재무구조개선약정: 1999년 말까지 부채비율 200 % 미만; 금융감독위원회가 "
        "그 아래 그룹들의 재무약정에도 같은 200 % 기준을 점검 (docs/meaning.md)",
        _debt_ratio_above(2),
    ),
    Flag(
        "debt_ratio_above_400",
        "부채비율이 400 %를 넘습니다",
        "Debt ratio above 400 % (liabilities more than four times the equity)",
        "total_equity > 0 and total_liabilities / total_equity > 4",
        "부채비율 200 % 기준의 두 배 (docs/meaning.md)",
        "위 200 % 기준의 두 배; 한국 상장사에서 이 구간의 부실 상장폐지 비율은 docs/meaning.md에 측정해 둠",
        _debt_ratio_above(4),
    ),
    Flag(
        "equity_below_kosdaq_floor",
        "자기자본이 코스닥 관리종목 지정 기준(10억 원) 미만입니다",
        "Equity below the KOSDAQ floor for an administrative issue (KRW 1 bn)",
        "currency KRW and market KOSDAQ with total_equity < 1,000,000,000",
        f"{KOSDAQ_RULES} 제53조 (관리종목: 자기자본 10억 원 미만)",
        f"{KOSDAQ_RULES} 제53조(관리종목 지정): 최근 사업연도 말 자기자본 10억 원 미만; 2회 연속이면 2022-12 개정부터 "
        "상장적격성 실질심사 사유 (제56조)",
        lambda v, floor: v["total_equity"] < floor["total_equity"],
    ),
    Flag(
        "revenue_below_krx_floor",
        "매출액이 관리종목 지정 기준(유가증권시장 50억 원, 코스닥 30억 원) 미만입니다",
        "Revenue below the KRX floor for an administrative issue (KOSPI KRW 5 bn, KOSDAQ KRW 3 bn)",
        "currency KRW and market KOSPI with revenue < 5,000,000,000, or KOSDAQ with revenue < 3,000,000,000",
        f"{KOSPI_RULES} 제47조, {KOSDAQ_RULES} 제53조 (관리종목: 매출액 미달)",
        f"{KOSPI_RULES} 제47조(관리종목 지정): 최근 사업연도 매출액 50억 원 미만; "
        f"{KOSDAQ_RULES} 제53조(관리종목 지정): 최근 사업연도 매출액 30억 원 미만 "
        "(기술특례 상장 기업 등은 일정 기간 면제); 2027년부터 단계적 상향 (금융위원회 2025-01-21)",
        lambda v, floor: v["revenue"] < floor["revenue"],
    ),
    Flag(
        "revenue_below_krx_floor_two_years",
        "매출액이 2년 연속 관리종목 지정 기준 미만입니다 (상장적격성 실질심사 사유)",
        "Revenue below the KRX floor in both years given (a ground for a listing eligibility review)",
        "revenue_below_krx_floor for revenue and for revenue_prior",
        f"{KOSPI_RULES}, {KOSDAQ_RULES} 제56조 (상장적격성 실질심사: 2년 연속 매출액 미달)",
        f"{KOSPI_RULES}(2년 연속 매출액 50억 원 미만)과 {KOSDAQ_RULES} 제56조(2년 연속 30억 원 미만): "
        "2022-12 개정부터 상장적격성 실질심사 사유 (그전에는 곧바로 상장폐지)",
        lambda v, floor: (v["revenue"] < floor["revenue"]) & (v["revenue_prior"] < floor["revenue"]),
    ),
)
FLAG_BY_CODE = {flag.code: flag for flag in FLAGS}
CARDS = [flag.card() for flag in FLAGS]  # shared by every answer's rows: never changed


def floors(currencies: Sequence[str | None], markets: Sequence[str | None]) -> dict[str, np.ndarray]:
    """Per statement field with a listing floor, each company's floor in won: NaN where none
    applies (amounts not in KRW, or a market without that floor)."""
    import numpy as np

    return {
        field: np.array(
            [
                by_market.get(market or "", math.nan) if currency == "KRW" else math.nan
                for currency, market in zip(currencies, markets)
            ],
            dtype=float,
        )
        for field, by_market in FLOORS.items()
    }


def company_flags(statement: Mapping[str, float], currency: str | None, market: str | None) -> list[dict[str, Any]]:
    """One company's flags, in plain floats (NaN: not given): the rules are the same functions
    `raised` applies to arrays, and a comparison with NaN is false here too. A few companies are
    checked this way; numpy's fixed cost per call (some 20 us for the six rules) is more than the
    checks themselves."""
    floor = {
        field: by_market.get(market or "", math.nan) if currency == "KRW" else math.nan
        for field, by_market in FLOORS.items()
    }
    return [card for flag, card in zip(FLAGS, CARDS) if flag.holds(statement, floor)]


def raised(columns: Mapping[str, np.ndarray], floor: Mapping[str, np.ndarray]) -> np.ndarray:
    """(companies, flags): which flags each company raises. A comparison with NaN (a value not
    given, a floor that does not apply) is false: a flag needs every value its rule reads."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        return np.column_stack([flag.holds(columns, floor) for flag in FLAGS])


def flags_of(matrix: np.ndarray) -> list[list[dict[str, Any]]]:
    """Each company's flags as the answer carries them, from `raised`'s matrix."""
    import numpy as np

    cards = CARDS
    rows: list[list[dict[str, Any]]] = [[] for _ in range(len(matrix))]
    for i in np.flatnonzero(matrix.any(axis=1)).tolist():
        rows[i] = [cards[j] for j in np.flatnonzero(matrix[i]).tolist()]
    return rows
