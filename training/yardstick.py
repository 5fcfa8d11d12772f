"""The rolling-origin yardstick: every year 2010-2018 scored by a model that never saw it.

For each year T: settings chosen by fitting on years <= T-4 and scoring T-3..T-1, then the
recipe refitted on all years < T with them, and year T scored. The per-year ROC-AUCs are
averaged. One 116-failure test period cannot tell recipes apart; nine years, 261 failures
and a paired company-level bootstrap can.

Each recipe's out-of-year scores are cached under .cache/rolling/ (keyed by the recipe's
settings and the data file's hash), so comparing a new recipe retrains only that one.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pandas as pd

from soundness.artifacts import sha256_of

from . import data

YEARS = tuple(range(2010, 2019))
CACHE = data.ROOT / ".cache" / "rolling"


def _cache_path(recipe: Any, table: data.Table) -> Path:
    key = hashlib.sha256((recipe.key() + sha256_of(table.source)).encode()).hexdigest()[:16]
    return CACHE / f"{key}.csv"


def rolling_scores(recipe: Any, table: data.Table, years: tuple[int, ...] = YEARS, log=print) -> pd.DataFrame:
    """Out-of-year scores of every row the recipe can score in `years`: its row (the table's
    index), year, score, `score_<variant>` for each of the recipe's input variants, and the
    seconds that year's selection and fit took."""
    path = _cache_path(recipe, table)
    if path.is_file():
        return pd.read_csv(path)
    frame = table.frame
    parts = []
    for year in years:
        started = time.monotonic()
        fit = frame[frame["year"] <= year - 4]
        val = frame[frame["year"].between(year - 3, year - 1)]
        settings = recipe.select(fit, val)
        scorer = recipe.fit(frame[frame["year"] < year], settings)
        target = frame[frame["year"].eq(year)]
        target = target[recipe.usable(target)]
        part = pd.DataFrame({"row": target.index, "year": year, "score": scorer(target)})
        for name, inputs in getattr(recipe, "variants", {}).items():
            part[f"score_{name}"] = scorer(inputs(target))
        part["seconds"] = time.monotonic() - started
        parts.append(part)
        log(f"  {recipe.name} {year}: {settings} ({parts[-1]['seconds'].iloc[0]:.1f} s)")
    scores = pd.concat(parts, ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(path, index=False, float_format="%.17g")
    return scores


def common_rows(table: data.Table, runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows every run scored: label, year, company and each run's score as a column."""
    frame = table.frame
    merged = None
    for name, scores in runs.items():
        part = scores.set_index("row")["score"].rename(name)
        merged = part.to_frame() if merged is None else merged.join(part, how="inner")
    merged = merged.join(frame[["label", "year", "company"]])
    return merged
