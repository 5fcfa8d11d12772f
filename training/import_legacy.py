"""Turn an existing `.pth` state_dict + joblib scaler into an artifact directory.

    python -m training.import_legacy --weights W.pth --scaler S.pkl --out DIR [--features a,b,...]

The layer widths come from the state_dict, the features default to the seed's five in
the seed's order, and the decision stays the seed's argmax (threshold 0.5) unless told
otherwise. Whatever cannot be mapped is refused with the reason.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from soundness import artifacts
from soundness.network import spec_from_state_dict
from soundness.predictor import Predictor
from soundness.ratios import SEED_FEATURES


def import_legacy(weights: Path, scaler_path: Path, out: Path, features: list[str] | None = None,
                  threshold: float = 0.5, name: str | None = None, version: str = "imported") -> Path:
    state = artifacts.load_weights(Path(weights))
    try:
        spec = spec_from_state_dict(state)
    except ValueError as exc:
        raise artifacts.ArtifactError(f"{Path(weights).name}: {exc}") from None
    features = list(features or SEED_FEATURES)
    if spec["input_size"] != len(features):
        raise artifacts.ArtifactError(
            f"the network takes {spec['input_size']} inputs but {len(features)} feature names were "
            f"given ({', '.join(features)}); pass --features with {spec['input_size']} names in order")
    if spec["num_classes"] != 2:
        raise artifacts.ArtifactError(f"the network has {spec['num_classes']} outputs; only 2 classes are supported")
    network = artifacts.build_network(spec, state)
    scaler = artifacts.load_scaler(Path(scaler_path))
    if scaler.n_features_in_ != len(features):
        raise artifacts.ArtifactError(
            f"the scaler was fitted on {scaler.n_features_in_} features, the network takes {len(features)}")
    manifest = {
        "model": {"name": name or Path(weights).stem, "version": version,
                  "description": "Imported from an existing state_dict and scaler."},
        "created": {"by": "training.import_legacy", "source_files": {
            "weights": {"name": Path(weights).name, "sha256": artifacts.sha256_of(Path(weights))},
            "scaler": {"name": Path(scaler_path).name, "sha256": artifacts.sha256_of(Path(scaler_path))}}},
        "features": features,
        "network": spec,
        "preprocessing": {"clip": None, "scaler": type(scaler).__name__},
        "decision": {"threshold": threshold,
                     "rule": "unsound when probability_unsound >= threshold; 0.5 is the "
                             "original model's argmax"},
        "calibration": {"method": "none"},
        "metrics": {},
        "training_data": {"description": "unknown: imported model; its training data is not recorded"},
        "feature_quantiles": {},
    }
    directory = artifacts.save(out, state_dict=network.state_dict(), scaler=scaler, manifest=manifest)
    _verify(directory)
    return directory


def _verify(directory: Path) -> None:
    """Reload what was written and run a forward pass: a broken import fails here, not in serving."""
    predictor = Predictor(artifacts.load(directory))
    probabilities = predictor.probabilities(np.zeros((2, len(predictor.features))))
    if not np.all(np.isfinite(probabilities)):
        raise artifacts.ArtifactError("the imported model gives non-finite outputs on a test input")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True, type=Path, help="the .pth state_dict")
    parser.add_argument("--scaler", required=True, type=Path, help="the joblib scaler (.pkl)")
    parser.add_argument("--out", required=True, type=Path, help="artifact directory to write")
    parser.add_argument("--features", help="comma-separated feature names, in the network's input order")
    parser.add_argument("--threshold", type=float, default=0.5, help="decision threshold (default 0.5)")
    parser.add_argument("--name", help="model name (default: the weights file's stem)")
    parser.add_argument("--version", default="imported", help="model version")
    args = parser.parse_args(argv)
    features = [f.strip() for f in args.features.split(",")] if args.features else None
    try:
        out = import_legacy(args.weights, args.scaler, args.out, features, args.threshold,
                            args.name, args.version)
    except (artifacts.ArtifactError, OSError) as exc:
        print(f"import_legacy: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
