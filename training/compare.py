"""Design choices (feature set, scaler) compared on the validation years only.

    python -m training.compare [--data-dir DIR] [--seeds 0,1,2,3,4] [--out training/report/selection.md]

In `training.train` the validation years also choose the epoch, which flatters their ROC-AUC.
Here the epoch is chosen on 2009-2011 instead (the network fits 1999-2008), so each
candidate's validation ROC-AUC is a fair estimate, averaged over seeds. The test years are
never read.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from soundness.ratios import SEED_FEATURES

from . import data, train

FIT_YEARS, STOP_YEARS = (1999, 2008), (2009, 2011)
EXTENDED = SEED_FEATURES + ("roa_pct", "operating_roa_pct", "net_margin_pct")
FEATURE_SETS = {"seed five": SEED_FEATURES, "seed five + roa, operating_roa, net_margin": EXTENDED}
BASE = train.Config()  # every other setting as training.train uses it
SCALERS = {"standard": "StandardScaler", "quantile_normal": "QuantileTransformer (normal)"}


def validation_margins(table: data.Table, config: train.Config) -> tuple[np.ndarray, np.ndarray]:
    """Validation labels and one network's margins, its epoch chosen on STOP_YEARS."""
    features = list(config.features)
    frame = table.frame[table.frame[features].notna().all(axis=1)]
    parts = [frame[frame["year"].between(*years)] for years in (FIT_YEARS, STOP_YEARS, data.SPLITS["validation"])]
    fit, stop, validation = ((p[features].to_numpy(float), p["label"].to_numpy()) for p in parts)
    prepare = train.Preprocessing.fit(fit[0], config)
    network, _, _ = train.train_network(prepare(fit[0]), fit[1], prepare(stop[0]), stop[1], config,
                                        log=lambda _: None)
    return validation[1], train.margins(network, prepare(validation[0]))


def compare(table: data.Table, seeds: list[int], base: train.Config = BASE, log=print) -> list[dict]:
    """Each candidate's validation ROC-AUC per seed, and that of the seeds' averaged margins
    (what `training.ensemble` serves as one network)."""
    rows = []
    for set_name, features in FEATURE_SETS.items():
        for scaler in SCALERS:
            runs = [validation_margins(table, replace(base, features=features, scaler=scaler, seed=s))
                    for s in seeds]
            y = runs[0][0]
            aucs = [float(roc_auc_score(y, margin)) for _, margin in runs]
            ensemble = float(roc_auc_score(y, np.mean([margin for _, margin in runs], axis=0)))
            rows.append({"features": set_name, "scaler": scaler, "aucs": aucs, "mean": float(np.mean(aucs)),
                         "ensemble": ensemble})
            log(f"{set_name} / {scaler}: mean validation ROC-AUC {rows[-1]['mean']:.4f}, "
                f"averaged over seeds {ensemble:.4f}")
    return rows


def markdown(rows: list[dict], seeds: list[int], base: train.Config) -> str:
    lines = [
        "# Design choices, compared on the validation years",
        "",
        f"Made by `python -m training.compare --seeds {','.join(map(str, seeds))}`. The network "
        f"(hidden {list(base.hidden)}, clip at train quantiles {list(base.clip_quantiles)}) fits "
        f"{FIT_YEARS[0]}-{FIT_YEARS[1]}, its epoch is chosen on {STOP_YEARS[0]}-{STOP_YEARS[1]}, and it is "
        f"scored on the validation years {data.SPLITS['validation'][0]}-{data.SPLITS['validation'][1]} "
        "(ROC-AUC, rows with all of the set's features defined). The test years are not read.",
        "",
        f"| features | scaler | mean ROC-AUC of one network | {len(seeds)} networks averaged | per seed |",
        "|---|---|---|---|---|",
        *[f"| {r['features']} | {SCALERS[r['scaler']]} | {r['mean']:.4f} | {r['ensemble']:.4f} | "
          f"{', '.join(f'{a:.4f}' for a in r['aucs'])} |" for r in rows],
        "",
        f"Rule: keep the seed's five ratios (so seed-era `{{\"data\": [[five numbers]]}}` clients keep "
        f"working) when their best variant reaches {train.TARGET_VALIDATION_AUC} here; use a wider set "
        "only when it does not. Serve the seeds' networks averaged (one wider network, "
        "`training.ensemble`) when that beats the mean single network here.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds to average over")
    parser.add_argument("--out", type=Path, default=data.ROOT / "training" / "report" / "selection.md")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = compare(data.load_us(args.data_dir), seeds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, seeds, BASE), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
