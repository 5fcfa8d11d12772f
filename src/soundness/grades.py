"""Risk grades: an ordered scale over probability_unsound, cut where the manifest says.

Grade 1 is the lowest risk, as in Korean credit grades (1등급 is the best). A model's
manifest carries the cut points (`grades.cut_points`, chosen by training on validation years)
and each grade's observed event rates; the names live here, once, for training and serving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Grading:
    """A model's grades: its cut points and, when it states one, the fewest known features a
    row needs to be graded at all (fewer: INSUFFICIENT, whatever its probability)."""

    cut_points: tuple[float, ...]
    min_known_features: int | None = None

    def grades(self, probabilities: np.ndarray, known: np.ndarray) -> list[Grade]:
        """Each row's grade, from its probability and how many of its features are known."""
        numbers = grade_of(probabilities, self.cut_points).tolist()
        graded = [GRADES[n - 1] for n in numbers]
        if self.min_known_features is None:
            return graded
        return [INSUFFICIENT if k < self.min_known_features else g for g, k in zip(graded, known.tolist())]


def grading_of(manifest: dict[str, Any], features: int) -> Grading | None:
    """The manifest's grading (None for a model without `grades`, such as an imported legacy one).
    Raises ValueError, naming the key, for cut points or a minimum that cannot be used."""
    grades = manifest.get("grades")
    if grades is None:
        return None
    cut_points = grades.get("cut_points") if isinstance(grades, dict) else None
    if not (
        isinstance(cut_points, list)
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) and 0 < c < 1 for c in cut_points)
    ):
        raise ValueError("grades.cut_points must be a list of probabilities between 0 and 1")
    grade_of(np.zeros(0), cut_points)  # their count and order
    insufficient = manifest.get("insufficient")
    minimum = insufficient.get("min_known_features") if isinstance(insufficient, dict) else None
    if insufficient is not None and not (
        isinstance(minimum, int) and not isinstance(minimum, bool) and 1 <= minimum <= features
    ):
        raise ValueError(f"insufficient.min_known_features must be an integer from 1 to {features}")
    return Grading(tuple(float(c) for c in cut_points), minimum)


def as_json(grade: Grade) -> dict[str, Any]:
    return {"grade": grade.grade, "code": grade.code, "ko": grade.ko, "en": grade.en}
