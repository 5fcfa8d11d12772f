"""What one model's answers mean, read once from its manifest: the event its probability is
of, its grades, the reasons' groups, the red flags, and what GET /model says of them.

A manifest without `event` or `grades` (an imported legacy model) is served as before: its
answers carry no event and no grade; reasons and flags do not depend on the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import flags, grades
from .grades import Grading
from .reasons import Reasons

EVENT_KEYS = ("code", "ko", "en")


def _event(manifest: dict[str, Any]) -> dict[str, Any] | None:
    event = manifest.get("event")
    if event is None:
        return None
    if not (isinstance(event, dict) and all(isinstance(event.get(key), str) and event[key] for key in EVENT_KEYS)):
        raise ValueError("event must be an object with the strings code, ko and en")
    months = event.get("horizon_months")
    if months is not None and not (isinstance(months, int) and not isinstance(months, bool) and months > 0):
        raise ValueError("event.horizon_months must be a positive integer")
    return event


class Meaning:
    def __init__(self, manifest: dict[str, Any], features: Sequence[str]):
        """Raises ValueError, naming the manifest key, for an event or grades it cannot use."""
        self._manifest = manifest
        self.event = _event(manifest)
        # The answer's top level: what probability_unsound is the probability of.
        self.answer_event = {key: self.event[key] for key in EVENT_KEYS} if self.event else None
        self.grading = grades.grading_of(manifest, len(features))
        self.reasons = Reasons(features)
        self._grade_json = {g.code: grades.as_json(g) for g in (*grades.GRADES, grades.INSUFFICIENT)}

    def grades(self, probabilities: np.ndarray, x: np.ndarray) -> list[dict[str, Any]] | None:
        """Each row's grade as the answer carries it; None for a model without grades."""
        if self.grading is None:
            return None
        known = np.isfinite(x).sum(axis=1)
        return [self._grade_json[g.code] for g in self.grading.grades(probabilities, known)]

    def card(self, threshold: float, classes: dict[int, dict[str, Any]]) -> dict[str, Any]:
        """What GET /model says of the answers' meaning."""
        card: dict[str, Any] = {
            "label_meaning": _label_meaning(threshold, classes, self.grading is not None),
            "reason_groups": self.reasons.card(),
            "flags": [flag.described() for flag in flags.FLAGS],
        }
        if self.event:
            card["event"] = self.event
        if self.grading is not None:
            card["grades"] = self._grades_card(self.grading)
        return card

    def _grades_card(self, grading: Grading) -> dict[str, Any]:
        """The manifest's grades, with each grade's name, probability range and observed event
        rates beside it (the scale), and the grade given when too little is known."""
        section = dict(self._manifest["grades"])
        cuts = [0.0, *grading.cut_points, 1.0]
        rates = section.get("event_rates")
        if not isinstance(rates, dict):
            rates = {}
        scale = []
        for i, grade in enumerate(grades.GRADES):
            entry = {**grades.as_json(grade), "probability": [cuts[i], cuts[i + 1]]}
            entry["event_rates"] = {
                population: observed["grades"][i]
                for population, observed in rates.items()
                if isinstance(observed, dict)
                and isinstance(observed.get("grades"), list)
                and len(observed["grades"]) == len(grades.GRADES)
            }
            scale.append(entry)
        section["scale"] = scale
        if grading.min_known_features is not None:
            section["insufficient"] = {
                **grades.as_json(grades.INSUFFICIENT),
                **self._manifest["insufficient"],
                "event_rates": {
                    population: observed["insufficient"]
                    for population, observed in rates.items()
                    if isinstance(observed, dict) and isinstance(observed.get("insufficient"), dict)
                },
            }
        return section


def _label_meaning(threshold: float, classes: dict[int, dict[str, Any]], graded: bool) -> dict[str, str]:
    sound, unsound = classes[0], classes[1]
    ko = (
        f"label 1({unsound.get('ko', unsound['name'])}, class \"{unsound['name']}\")은 probability_unsound가 "
        f"결정 임계값 {threshold:g} 이상이라는 뜻이고, label 0({sound.get('ko', sound['name'])})은 그 미만이라는 뜻일 "
        "뿐입니다: 더 자세히 보라는 선별이지 판정이 아닙니다. 예전 입력 형식과 그것을 읽는 프로그램을 위해 남겨 둡니다."
    )
    en = (
        f"label 1 (class \"{unsound['name']}\", {unsound.get('ko', '')}) means only that probability_unsound is at or "
        f"above the decision threshold {threshold:g}, label 0 (\"{sound['name']}\") that it is below: a screen for a "
        "closer look, not a verdict. Kept for the legacy forms and the programs that read them."
    )
    if graded:
        ko += " 위험의 크기는 grade가 말합니다(판단 근거 부족이면 grade가 그렇다고 말합니다)."
        en += " The grade says how high the risk is (and says so when too little is known to judge)."
    return {"ko": ko, "en": en}
