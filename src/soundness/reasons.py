"""Why a company got its score, in words that cannot contradict the numbers.

A reason is phrased from its contribution alone: its sign says "raised" or "lowered" the risk,
measured, like the contribution, against the explanation's baseline (the weighted training
companies of soundness.explain). Nothing here judges a value high or low against anything
else (a training median, say): the page once did, and one company in five got a sentence such
as "부채비율이 높아 위험을 낮췄습니다", the level judged against the median, the direction against the
baseline.

Ratios that are algebraically tied are explained as one group: equity ratio, liabilities to
assets and debt ratio are three views of one balance sheet (liabilities to assets is exactly
100 - equity ratio), and the model splits one effect between them, sometimes with opposite
signs. Each group's contribution is the sum of its members', and every feature outside a group
is a group of its own, so the groups partition the features and still add up to the score.

An input the company left unknown can raise the risk ("값을 알 수 없어 위험을 높였습니다"), but is
never worded as helping: a group with no known member that lowered the score gives no reason
(its number stays in explanation.groups).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .ratios import RATIO_BY_NAME

REASONS = 3  # the largest groups said in words


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]
    ko: str
    en: str


LEVERAGE = Group(
    "leverage",
    ("equity_ratio_pct", "liabilities_to_assets_pct", "debt_ratio_pct"),
    "부채·자본 구성(자기자본비율, 부채자산비율, 부채비율)",
    "Leverage (equity ratio, liabilities to assets, debt ratio)",
)
TIED = (LEVERAGE,)


def _label(name: str) -> tuple[str, str]:
    """A ratio's names for a sentence: the English without its unit ("Return on assets (%)")."""
    ratio = RATIO_BY_NAME.get(name)
    return (ratio.ko, re.sub(r" \([^()]*\)$", "", ratio.en)) if ratio else (name, name)


def groups_of(features: Sequence[str]) -> list[Group]:
    """The model's features as groups, in feature order (a tied group where its first member
    stands); a tied group counts only with two or more of its members among the features."""
    tied = {}
    for group in TIED:
        members = tuple(name for name in features if name in group.members)
        if len(members) >= 2:
            tied.update(dict.fromkeys(members, Group(group.name, members, group.ko, group.en)))
    groups: dict[str, Group] = {}
    for name in features:
        group = tied.get(name) or Group(name, (name,), *_label(name))
        groups.setdefault(group.name, group)
    return list(groups.values())


def _has_final_consonant(word: str) -> bool:
    """Whether a Korean word's last syllable ends in a consonant (받침), ignoring a parenthesised
    tail: "총자산순이익률(ROA)" takes the particle of "률"."""
    base = word.split("(", 1)[0].rstrip() or word
    last = base[-1]
    if "가" <= last <= "힣":
        return (ord(last) - ord("가")) % 28 != 0
    return last in "013678LMNRlmnr"  # read aloud: 영, 일, 삼, 육, 칠, 팔; 엘, 엠, 엔, 알


def _subject(word: str) -> str:
    return word + ("이" if _has_final_consonant(word) else "가")


def _object(word: str) -> str:
    return word + ("을" if _has_final_consonant(word) else "를")


def sentences(group: Group, raised: bool, known: bool) -> tuple[str, str]:
    """The Korean and English sentence for a group that raised or lowered the risk."""
    ko_effect, en_effect = ("높였습니다", "raised") if raised else ("낮췄습니다", "lowered")
    if known:
        return f"{_subject(group.ko)} 위험을 {ko_effect}.", f"{group.en} {en_effect} the risk."
    # Unknown and lowered is never said (see the module's docstring).
    return f"{_object(group.ko)} 알 수 없어 위험을 {ko_effect}.", f"{group.en} unknown: this {en_effect} the risk."


class Reasons:
    """For one model's features: the groups' contributions and the reasons, many rows at once."""

    def __init__(self, features: Sequence[str], count: int = REASONS):
        self.groups = groups_of(features)
        self.names = [group.name for group in self.groups]
        index = {name: i for i, name in enumerate(features)}
        self._onehot = np.zeros((len(features), len(self.groups)))
        for j, group in enumerate(self.groups):
            self._onehot[[index[name] for name in group.members], j] = 1.0
        self._count = count
        # Every sentence there is, made once: a reason is a lookup, not a format, per row.
        self._said = {
            (j, raised, known): sentences(group, raised, known)
            for j, group in enumerate(self.groups)
            for raised in (True, False)
            for known in (True, False)
        }

    def grouped(self, contributions: np.ndarray) -> np.ndarray:
        """(rows, groups): each group's contribution, the sum of its members', added column by
        column so a row's sums have the same bits alone and in any batch (a matmul's BLAS kernel
        adds in another order for another number of rows)."""
        out = np.zeros((len(contributions), self._onehot.shape[1]))
        for i, j in zip(*np.nonzero(self._onehot), strict=True):
            out[:, j] += contributions[:, i]
        return out

    def reasons(self, grouped: np.ndarray, known: np.ndarray) -> list[list[dict[str, Any]]]:
        """Per row, the largest groups by the size of their contribution, each as a reason;
        `known[i, f]`: row i's feature f is known."""
        group_known = (known @ self._onehot) > 0
        sayable = (grouped != 0) & (group_known | (grouped > 0))
        size = np.where(sayable, np.abs(grouped), -1.0)
        # A stable sort: equal sizes keep feature order, so the same row gets the same reasons.
        order = np.argsort(-size, axis=1, kind="stable")[:, : self._count]
        rows = []
        for values, ok, known_row, top in zip(grouped.tolist(), sayable.tolist(), group_known.tolist(), order.tolist()):
            reasons = []
            for j in top:
                if not ok[j]:
                    break
                raised = values[j] > 0
                ko, en = self._said[j, raised, known_row[j]]
                reasons.append(
                    {
                        "name": self.names[j],
                        "contribution": values[j],
                        "direction": "raised" if raised else "lowered",
                        "ko": ko,
                        "en": en,
                    }
                )
            rows.append(reasons)
        return rows

    def card(self) -> dict[str, dict[str, Any]]:
        """The groups of more than one feature, with their words: what GET /model says of them."""
        return {
            group.name: {"features": list(group.members), "ko": group.ko, "en": group.en}
            for group in self.groups
            if len(group.members) > 1
        }
