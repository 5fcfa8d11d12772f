"""What a reader may know about a model: its manifest without file hashes or network internals."""

from __future__ import annotations

import math
from typing import Any

from .ratios import RATIO_BY_NAME, RATIOS, STATEMENT_FIELDS

PUBLIC_KEYS = (
    "model",
    "features",
    "classes",
    "decision",
    "calibration",
    "explanation",
    "metrics",
    "training_data",
    "feature_quantiles",
    "preprocessing",
    "created",
    "limits",
)


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's public part, with the statement fields' and ratios' names in Korean and English."""
    public = {key: manifest[key] for key in PUBLIC_KEYS if key in manifest}
    public["feature_labels"] = {
        name: {"ko": RATIO_BY_NAME[name].ko, "en": RATIO_BY_NAME[name].en}
        for name in manifest["features"]
        if name in RATIO_BY_NAME
    }
    # Every ratio a prediction carries, so the page names them without a copy of this list.
    public["ratio_labels"] = {r.name: {"ko": r.ko, "en": r.en} for r in RATIOS}
    # The nine fields a company is given by, in the form's order: the page's labels and CSV headers.
    public["statement_labels"] = {name: dict(label) for name, label in STATEMENT_FIELDS.items()}
    public.update(_meaning_card(manifest))
    return public


def _meaning_card(manifest: dict[str, Any]) -> dict[str, Any]:
    """The event, the grades with their observed event rates, what label and class mean, the
    reasons' groups and the red flags' rules (soundness.meaning), for a manifest the server
    loaded (so its keys were checked)."""
    from .meaning import Meaning  # numpy: never in the server's master, where this module is imported

    classes = {c["label"]: c for c in manifest["classes"]}
    return Meaning(manifest, manifest["features"]).card(float(manifest["decision"]["threshold"]), classes)


def training_ranges(manifest: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per feature, the span between the lowest and highest training quantile the manifest
    records (1 % and 99 % for the bundled model): where the training companies lie."""
    ranges = {}
    for name in manifest["features"]:
        recorded = (manifest.get("feature_quantiles") or {}).get(name) or {}
        q, values = recorded.get("q"), recorded.get("values")
        if (
            isinstance(q, list)
            and isinstance(values, list)
            and len(q) == len(values) >= 2
            and all(isinstance(x, (int, float)) and math.isfinite(x) for x in q + values)
        ):
            percent = 100 if max(q) <= 1 else 1  # quantiles as fractions (0.01) or percents (1)
            ranges[name] = {
                "low": values[0],
                "high": values[-1],
                "share": round((q[-1] - q[0]) * percent),
                "quantiles": [q[0], q[-1]],
            }
    return ranges
