"""Risk grades: an ordered scale over probability_unsound, cut where the manifest says.

Grade 1 is the lowest risk, as in Korean credit grades (1등급 is the best). A model's
manifest carries the cut points (`grades.cut_points`, chosen by training on validation years)
and each grade's observed event rates; the names live here, once, for training and serving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grade:
    grade: int | None
    code: str
    ko: str
    en: str


GRADES = (
    Grade(1, "very_low", "매우 낮음", "Very low"),
    Grade(2, "low", "낮음", "Low"),
    Grade(3, "moderate", "보통", "Moderate"),
    Grade(4, "high", "높음", "High"),
    Grade(5, "very_high", "매우 높음", "Very high"),
)
# Too few known inputs to judge (the manifest's `insufficient.min_known_features`).
INSUFFICIENT = Grade(None, "insufficient_data", "판단 근거 부족", "Not enough data")


def grade_of(probabilities: np.ndarray, cut_points: Sequence[float]) -> np.ndarray:
    """Each probability's grade number: 1 + how many cut points are at or below it."""
    if len(cut_points) != len(GRADES) - 1 or list(cut_points) != sorted(cut_points):
        raise ValueError(f"grades need {len(GRADES) - 1} ascending cut points, got {list(cut_points)}")
    return 1 + np.searchsorted(np.asarray(cut_points, dtype=np.float64), probabilities, side="right")
