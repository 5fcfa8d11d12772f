"""The rolling-origin yardstick: every year 2010-2018 scored by a model that never saw it.

For each year T: settings chosen by fitting on years <= T-4 and scoring T-3..T-1, then the
recipe refitted on all years < T with them, and year T scored. The per-year ROC-AUCs are
averaged. One 116-failure test period cannot tell recipes apart; nine years, 261 failures
and a paired company-level bootstrap can.

Each recipe's out-of-year scores may be cached under .cache/rolling/ (`cache=True`, what
training.compare does), keyed by everything that can change a score: the recipe's settings,
the years, the data file's hash, the sha256 of every source file of training and the model
core that is loaded, and the library versions. `make train` computes every score afresh.
Years run in worker processes when `jobs` > 1, started in the background (`start`) so the
caller can fit its own model meanwhile: each fit seeds itself and runs on one thread, so the
scores are the same bits in any order and with any number of workers. Each worker runs in a
session of its own, so a scheduler that shares the CPU between sessions (Linux's autogroup)
counts it as the separate job it is.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd

from soundness.artifacts import sha256_of

from . import data, provenance

YEARS = tuple(range(2010, 2019))
# Recipe choices are made on these only: the test years 2015-2018 are never read for a choice.
CHOICE_YEARS = tuple(range(2010, 2015))
CACHE = data.ROOT / ".cache" / "rolling"


def cache_key(recipe: Any, table: data.Table, years: tuple[int, ...]) -> str:
    parts = {
        "recipe": recipe.key(),
        "years": list(years),
        "data": sha256_of(table.source),
        "label": table.label_definition,
        "code": provenance.code_digest(provenance.imported_code()),
        "libraries": provenance.library_versions(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def score_year(recipe: Any, frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Year `year` scored by the recipe fitted on the years before it, its settings chosen by
    fitting on years <= year-4 and scoring year-3..year-1."""
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
    part.attrs["settings"] = settings
    return part


_worker_frame: pd.DataFrame | None = None


def _start_worker(frame: pd.DataFrame) -> None:
    global _worker_frame
    os.setsid()
    provenance.pin_threads()
    _worker_frame = frame


def _score_in_worker(recipe: Any, year: int) -> tuple[pd.DataFrame, Any]:
    part = score_year(recipe, _worker_frame, year)
    return part, part.attrs["settings"]


Scores = tuple[dict[str, pd.DataFrame], dict[str, bool]]


def start(
    recipes: dict[str, Any],
    table: data.Table,
    years: tuple[int, ...] = YEARS,
    log=print,
    cache: bool = False,
    jobs: int = 1,
) -> Callable[[], Scores]:
    """Start scoring (in `jobs` worker processes, if more than one); the function returned waits
    for what rolling_scores_of returns."""
    paths = {name: CACHE / f"{cache_key(r, table, years)}.csv" for name, r in recipes.items()} if cache else {}
    scores = {name: pd.read_csv(path) for name, path in paths.items() if path.is_file()}
    from_cache = {name: name in scores for name in recipes}
    # The latest years first (the most rows to fit): the workers finish together.
    todo = [(name, year) for year in sorted(years, reverse=True) for name in recipes if name not in scores]
    pool = None
    if jobs > 1 and len(todo) > 1:
        context = multiprocessing.get_context("spawn")  # no fork after torch and OpenMP have started
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(table.frame,))
        futures = {key: pool.submit(_score_in_worker, recipes[key[0]], key[1]) for key in todo}

    def part(key: tuple[str, int]) -> pd.DataFrame:
        if pool is not None:
            scored, settings = futures[key].result()
        else:
            scored = score_year(recipes[key[0]], table.frame, key[1])
            settings = scored.attrs["settings"]
        log(f"  {recipes[key[0]].name} {key[1]}: {settings} ({scored['seconds'].iloc[0]:.1f} s)")
        return scored

    def collect() -> Scores:
        parts = {key: part(key) for key in todo}
        if pool is not None:
            pool.shutdown()
        for name in recipes:
            if name in scores:
                continue
            scores[name] = pd.concat([parts[(name, year)] for year in years], ignore_index=True)
            if cache:
                paths[name].parent.mkdir(parents=True, exist_ok=True)
                scores[name].to_csv(paths[name], index=False, float_format="%.17g")
        return scores, from_cache

    return collect


def rolling_scores_of(
    recipes: dict[str, Any],
    table: data.Table,
    years: tuple[int, ...] = YEARS,
    log=print,
    cache: bool = False,
    jobs: int = 1,
) -> Scores:
    """Out-of-year scores of every row each recipe can score in `years`: its row (the table's
    index), year, score, `score_<variant>` for each of the recipe's input variants, and the
    seconds that year's selection and fit took. Also, per recipe, whether its scores came from
    the cache."""
    return start(recipes, table, years, log, cache, jobs)()


def rolling_scores(recipe: Any, table: data.Table, years: tuple[int, ...] = YEARS, log=print, cache: bool = False):
    """One recipe's out-of-year scores (rolling_scores_of)."""
    return rolling_scores_of({"recipe": recipe}, table, years, log, cache)[0]["recipe"]


def common_rows(table: data.Table, runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows every run scored: label, year, company and each run's score as a column."""
    frame = table.frame
    merged = None
    for name, scores in runs.items():
        part = scores.set_index("row")["score"].rename(name)
        merged = part.to_frame() if merged is None else merged.join(part, how="inner")
    merged = merged.join(frame[["label", "year", "company"]])
    return merged
