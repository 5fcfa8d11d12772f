"""Request bodies for the benchmarks: the legacy service's worked example, varied deterministically."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from soundness import ratios

ROOT = Path(__file__).resolve().parent.parent
LEGACY_EXAMPLE = ROOT.parent / "shared" / "reference" / "seed-example.json"


@lru_cache(maxsize=1)
def _example() -> dict[str, float]:
    data = json.loads(LEGACY_EXAMPLE.read_text(encoding="utf-8"))
    return {name: entry["value"] for name, entry in data["statement_inputs"].items()}


def statements(n: int) -> list[dict[str, float]]:
    """n companies: the legacy example with every value scaled by 0.5-1.5 (seeded, so reproducible)."""
    factors = np.random.default_rng(n).uniform(0.5, 1.5, (n, len(ratios.STATEMENT_FIELDS)))
    example = _example()
    return [{name: round(example[name] * f, 0) for name, f in zip(ratios.STATEMENT_FIELDS, row)} for row in factors]


def legacy_ratios(n: int) -> list[list[float]]:
    """The same n companies as the legacy service's five ratios, in the legacy service's order."""
    return [[ratios.compute(s).values[name] for name in ratios.LEGACY_FEATURES] for s in statements(n)]


def feature_rows(n: int, features: list[str]) -> list[list[float]]:
    """The same n companies as a model's features in its order (NaN where a ratio is undefined)."""
    return [
        [float("nan") if (value := ratios.compute(s).values.get(name)) is None else value for name in features]
        for s in statements(n)
    ]


# The companies form with each answer's explanation turned off, as a batch may ask.
UNEXPLAINED = "companies without explanations"


def body(form: str, n: int) -> bytes:
    """A predict request of n companies: as statements ("companies", or UNEXPLAINED) or as the
    legacy service's ratio rows ("data")."""
    if form in ("companies", UNEXPLAINED):
        companies = [{"id": f"c{i}", **s} for i, s in enumerate(statements(n))]
        return json.dumps({"companies": companies} | ({"explain": False} if form == UNEXPLAINED else {})).encode()
    return json.dumps({"data": legacy_ratios(n)}).encode()
