"""Import a model from the pickled files it came in, as a format-2 artifact (no pickle in it).

    python -m training.import_legacy --weights W.pth --scaler S.pkl --out DIR [--features a,b,...]
    python -m training.import_legacy --artifact OLD_DIR --out DIR      (a format-1 directory)

The layer widths come from the state_dict, the features default to the legacy five in
the legacy order, and the decision stays the legacy service's argmax (threshold 0.5) unless told
otherwise. A format-1 directory keeps its manifest (features, decision, calibration,
metrics). Either way the served numpy predictor is held to torch's eval-mode forward on
the legacy example (for the five ratios) and 2000 more rows, and nothing is written when a
probability differs by more than 1e-6. Whatever cannot be mapped is refused with the reason.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from soundness import artifacts
from soundness.artifacts import ArtifactError
from soundness.ratios import LEGACY_FEATURES

from . import export, legacy
from .network import build, spec_from_state_dict

# Format 1 sections that format 2 says otherwise (preprocessing, files) or anew (classes, format).
FORMAT_1_ONLY = ("schema_version", "files", "preprocessing")


def network_from_state(state: dict[str, Any], source: str, spec: dict[str, Any] | None = None):
    """The NeuralNet a state_dict describes, in eval mode; ArtifactError naming `source` if none."""
    try:
        found = spec_from_state_dict(state)
    except ValueError as exc:
        raise ArtifactError(f"{source}: {exc}") from None
    shape = ("input_size", "hidden", "num_classes")
    if spec is not None and any(found[key] != spec[key] for key in shape):
        raise ArtifactError(
            f"{source} does not fit the network its manifest describes: it has "
            + ", ".join(f"{key} {found[key]}" for key in shape)
        )
    network = build(spec or found)
    try:
        network.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError, AttributeError) as exc:
        first = " ".join(line.strip() for line in str(exc).strip().splitlines()[:3])
        raise ArtifactError(f"{source} does not fit a NeuralNet: {first}") from None
    return network.eval(), spec or found


def import_legacy(
    weights: Path,
    scaler_path: Path,
    out: Path,
    features: list[str] | None = None,
    threshold: float = 0.5,
    name: str | None = None,
    version: str = "imported",
) -> Path:
    weights, scaler_path = Path(weights), Path(scaler_path)
    state = legacy.load_weights(weights)
    network, spec = network_from_state(state, weights.name)
    features = list(features or LEGACY_FEATURES)
    if spec["input_size"] != len(features):
        raise ArtifactError(
            f"the network takes {spec['input_size']} inputs but {len(features)} feature names were "
            f"given ({', '.join(features)}); pass --features with {spec['input_size']} names in order"
        )
    if spec["num_classes"] != 2:
        raise ArtifactError(f"the network has {spec['num_classes']} outputs; only 2 classes are supported")
    scaler = legacy.load_scaler(scaler_path)
    if scaler.n_features_in_ != len(features):
        raise ArtifactError(
            f"the scaler was fitted on {scaler.n_features_in_} features, the network takes {len(features)}"
        )
    manifest = {
        "model": {
            "name": name or weights.stem,
            "version": version,
            "description": "Imported from an existing state_dict and scaler.",
        },
        "created": {
            "by": "training.import_legacy",
            "source_files": {
                "weights": {"name": weights.name, "sha256": artifacts.sha256_of(weights)},
                "scaler": {"name": scaler_path.name, "sha256": artifacts.sha256_of(scaler_path)},
            },
        },
        "features": features,
        "network": spec,
        "decision": {
            "threshold": threshold,
            "rule": "unsound when probability_unsound >= threshold; 0.5 is the original model's argmax",
        },
        "metrics": {},
        "training_data": {"description": "unknown: imported model; its training data is not recorded"},
        "feature_quantiles": fitted_range(scaler, features),
    }
    model = export.Model(network, scaler)
    return export.write(out, model, manifest, export.check_rows(model, features))


def fitted_range(scaler: Any, features: list[str]) -> dict[str, dict[str, list[float]]]:
    """The scaler's recorded training range (export.recorded_range) as the manifest's quantiles
    0 and 1 per feature, so answers warn of values beyond it; empty when it records none."""
    recorded = export.recorded_range(scaler)
    if recorded is None:
        return {}
    return {name: {"q": [0.0, 1.0], "values": [float(a), float(b)]} for name, a, b in zip(features, *recorded)}


def convert_format_1(directory: Path, out: Path) -> Path:
    """A format-1 artifact directory (model.pt + scaler.joblib) rewritten in format 2."""
    old, state, scaler = legacy.read_format_1(Path(directory))
    network, _ = network_from_state(state, legacy.FORMAT_1_WEIGHTS, old.get("network"))
    clip = (old.get("preprocessing") or {}).get("clip")
    bounds = (np.asarray(clip["lower"], np.float64), np.asarray(clip["upper"], np.float64)) if clip else None
    model = export.Model(network, scaler, bounds, old.get("calibration", {"method": "none"}))
    manifest = {key: value for key, value in old.items() if key not in FORMAT_1_ONLY}
    manifest["created"] = {
        **old.get("created", {}),
        "converted": {
            "by": "training.import_legacy --artifact",
            "from_format": 1,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source_files": old["files"],
        },
    }
    return export.write(out, model, manifest, export.check_rows(model, old["features"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--weights", type=Path, help="the .pth state_dict (with --scaler)")
    source.add_argument("--artifact", type=Path, help="a format-1 artifact directory to convert")
    parser.add_argument("--scaler", type=Path, help="the joblib scaler (.pkl) that goes with --weights")
    parser.add_argument("--out", required=True, type=Path, help="artifact directory to write")
    parser.add_argument("--features", help="comma-separated feature names, in the network's input order")
    parser.add_argument("--threshold", type=float, default=0.5, help="decision threshold (default 0.5)")
    parser.add_argument("--name", help="model name (default: the weights file's stem)")
    parser.add_argument("--version", default="imported", help="model version")
    args = parser.parse_args(argv)
    if args.weights and not args.scaler:
        parser.error("--weights needs --scaler")
    features = [f.strip() for f in args.features.split(",")] if args.features else None
    try:
        if args.artifact:
            out = convert_format_1(args.artifact, args.out)
        else:
            out = import_legacy(args.weights, args.scaler, args.out, features, args.threshold, args.name, args.version)
    except (ArtifactError, OSError) as exc:
        print(f"import_legacy: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
