"""What a reader may know about a model: its manifest without file hashes or network internals."""
from __future__ import annotations

from typing import Any

from .ratios import RATIO_BY_NAME, RATIOS

PUBLIC_KEYS = ("model", "features", "classes", "decision", "calibration", "metrics",
               "training_data", "feature_quantiles", "preprocessing", "created", "limits")


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's public part, with the ratios' names in Korean and English."""
    public = {key: manifest[key] for key in PUBLIC_KEYS if key in manifest}
    public["feature_labels"] = {
        name: {"ko": RATIO_BY_NAME[name].ko, "en": RATIO_BY_NAME[name].en}
        for name in manifest["features"] if name in RATIO_BY_NAME}
    # Every ratio a prediction carries, so the page names them without a copy of this list.
    public["ratio_labels"] = {r.name: {"ko": r.ko, "en": r.en} for r in RATIOS}
    return public
