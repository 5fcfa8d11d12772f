"""The labelled ratio tables training and evaluation read: US (train/validate/test) and Korean (external).

Both tables carry the nine statement fields of `soundness.ratios.STATEMENT_FIELDS`, the ratios
`soundness.ratios.compute_frame` derives from them (no formula lives here), a `label` and a `year`.
A prior-year value comes only from the same company's row of the year before; where that row
is absent the growth ratios stay unknown rather than being computed across two years. That
covers the rows `missing_company_years.csv` lists without reading it: each of them with a
known company lies inside that company's span of years (checked: none after a last year, so
no failed company's last year is among them); 41 are of unknown company.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from soundness.ratios import STATEMENT_FIELDS, compute_frame

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
US_FILE = Path("us-bankruptcy") / "american_bankruptcy.csv.gz"
KR_FILE = Path("kr-dart") / "statements.csv"

# By fiscal year, as the data set's authors split it; the test years are read once, to report.
# The served model is this split's: its grades' event rates are measured on years it never saw.
SPLITS: dict[str, tuple[int, int]] = {"train": (1999, 2011), "validation": (2012, 2014), "test": (2015, 2018)}

US_LABEL = (
    "1 on a failed company's last fiscal year (it filed for Chapter 7 or 11 within the next "
    "year), 0 on every other fiscal year, the earlier years of companies that later failed "
    "included (they did not fail within the next year; nobody scoring them then knew the future)"
)
KR_LABEL = (
    "distress_delisting_within_24m: 1 on a company's last fiscal year that ended before its "
    "delisting for distress (audit opinion, capital erosion, bill default, bankruptcy; not "
    "dissolution or a SPAC's expiry), when the delisting came within 24 months of that year's end, "
    "else 0; statements of fiscal years ending on or after the delisting (after_delisting) left out"
)
KR_LABEL_COLUMN = "distress_delisting_within_24m"

# The statement fields in the US columns (millions of USD). The data set has no equity column.
US_COLUMNS = {
    "total_assets": "X10",
    "total_liabilities": "X17",
    "revenue": "X16",
    "operating_income": "X12",
    "net_income": "X6",
}
# Altman's Z-score (a baseline, not a served ratio) needs these too, beside assets, liabilities
# and EBIT (operating income).
ALTMAN_COLUMNS = {
    "current_assets": "X1",
    "market_value": "X8",
    "net_sales": "X9",
    "current_liabilities": "X14",
    "retained_earnings": "X15",
}
# Fields whose prior-year value the ratios need: `<field>_prior` in STATEMENT_FIELDS.
PRIOR_FIELDS = tuple(f.removesuffix("_prior") for f in STATEMENT_FIELDS if f.endswith("_prior"))


@dataclass
class Table:
    """One labelled population: a row per company-year, and how it was made, in numbers."""

    frame: pd.DataFrame  # company, year, label, the nine statement fields, every ratio (+ extras)
    source: Path
    label_definition: str
    facts: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        first, last = SPLITS[name]
        return self.frame[self.frame["year"].between(first, last)]


def years(frame: pd.DataFrame, span: tuple[int, int]) -> pd.DataFrame:
    return frame[frame["year"].between(*span)]


def with_prior_year(frame: pd.DataFrame, fields: tuple[str, ...] = PRIOR_FIELDS) -> pd.DataFrame:
    """Add `<field>_prior` from the same company's row of year - 1 (NaN when there is none)."""
    prior = frame[["company", "year", *fields]].copy()
    prior["year"] += 1
    prior = prior.rename(columns={f: f"{f}_prior" for f in fields})
    merged = frame.merge(prior, on=["company", "year"], how="left", validate="one_to_one")
    merged.index = frame.index
    return merged


def label_next_year_bankruptcy(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Label 1 on a failed company's last row, 0 on every other row (earlier rows of failed
    companies included). Returns the labelled rows and how many earlier rows of failed
    companies are among the 0s."""
    failed = frame["status_label"].eq("failed")
    last_year = frame.groupby("company")["year"].transform("max")
    is_last = frame["year"].eq(last_year)
    labelled = frame.copy()
    labelled["label"] = (failed & is_last).astype(int)
    return labelled, int((failed & ~is_last).sum())


def add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, compute_frame(frame)], axis=1)


def load_us(data_dir: Path | str = DEFAULT_DATA_DIR) -> Table:
    """The US bankruptcy table, labelled 'files for bankruptcy within the next year'."""
    source = Path(data_dir) / US_FILE
    raw = pd.read_csv(source)
    frame = pd.DataFrame(
        {"company": raw["company_name"], "year": raw["year"].astype(int), "status_label": raw["status_label"]}
    )
    for name, column in (US_COLUMNS | ALTMAN_COLUMNS).items():
        frame[name] = raw[column].astype(float)
    frame["total_equity"] = frame["total_assets"] - frame["total_liabilities"]
    frame = with_prior_year(frame)
    labelled, earlier = label_next_year_bankruptcy(frame)
    facts = {
        "rows_in_file": len(raw),
        "companies": int(raw["company_name"].nunique()),
        "earlier_rows_of_failed_companies_labelled_0": earlier,
        "rows_without_prior_year": int(labelled["total_assets_prior"].isna().sum()),
    }
    return Table(add_ratios(labelled.drop(columns="status_label")), source, US_LABEL, facts)


def load_kr(data_dir: Path | str = DEFAULT_DATA_DIR) -> Table:
    """The Korean DART table (KRW), for external evaluation only: labelled by a distress
    delisting within 24 months, the statements filed after a delisting left out."""
    source = Path(data_dir) / KR_FILE
    raw = pd.read_csv(source, dtype={"corp_code": str, "stock_code": str})
    fields = [f for f in STATEMENT_FIELDS if not f.endswith("_prior")]
    frame = raw[fields].astype(float)
    frame.insert(0, "company", raw["corp_code"])
    frame.insert(1, "year", raw["fiscal_year"].astype(int))
    frame["label"] = raw[KR_LABEL_COLUMN].astype(int)
    frame = with_prior_year(frame)
    after = raw["after_delisting"].eq(1).to_numpy()
    frame = frame[~after]
    facts = {
        "rows_in_file": len(raw),
        "companies": int(raw["corp_code"].nunique()),
        "after_delisting_rows_left_out": int(after.sum()),
        "rows_without_prior_year": int(frame["total_assets_prior"].isna().sum()),
    }
    return Table(add_ratios(frame), source, KR_LABEL, facts)
