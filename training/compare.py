"""Network recipes compared on the rolling-origin yardstick (never on the test years).

    python -m training.compare [--data-dir DIR] [--out training/report/selection.md] [NAME ...]

Each candidate's out-of-year scores 2010-2018 (training.yardstick, cached in .cache/rolling)
against the version-1 recipe's and HistGradientBoosting's on the same rows, paired
company-level bootstrap intervals. With names, only those candidates are run.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

from . import bootstrap, data, recipes, yardstick
from .train import CHOSEN

# What was tried, in order; the chosen one is training.train.CHOSEN.
FAST = replace(recipes.NetworkConfig(), batch_size=2048, learning_rate=0.003, patience=8, max_epochs=40)
CANDIDATES: dict[str, recipes.NetworkRecipe] = {
    "16 ratios, missing indicators, 2 members, a fifth of each batch five-only (chosen)": recipes.NetworkRecipe(CHOSEN),
    "same, 35 % of each batch five-only": recipes.NetworkRecipe(replace(CHOSEN, five_only_fraction=0.35)),
}


def compare(table: data.Table, names: list[str], log=print) -> list[dict]:
    reference = {"version_1": recipes.version1(), "hist_gradient_boosting": recipes.BoostingRecipe()}
    runs = {name: yardstick.rolling_scores(r, table, log=log) for name, r in reference.items()}
    rows = []
    for name in names:
        scores = yardstick.rolling_scores(CANDIDATES[name], table, log=log)
        columns = {
            **{n: s[["row", "score"]] for n, s in runs.items()},
            "candidate": scores[["row", "score"]],
            "five_only": scores[["row", "score_five_only"]].rename(columns={"score_five_only": "score"}),
        }
        common = yardstick.common_rows(table, columns)
        result = bootstrap.paired(
            common["label"].to_numpy(),
            common["year"].to_numpy(),
            common["company"].to_numpy(),
            {n: common[n].to_numpy() for n in columns},
            "version_1",
            resamples=500,
        )
        seconds = float(scores.groupby("year")["seconds"].first().sum())
        rows.append({"name": name, "result": result, "seconds": seconds})
        log(
            f"{name}: {result['candidate']['mean_auc']:.4f} "
            f"(vs version 1 {result['candidate']['minus_version_1']:+.4f} {result['candidate']['difference_interval']}, "
            f"HGB {result['hist_gradient_boosting']['mean_auc']:.4f}; five only {result['five_only']['mean_auc']:.4f}) "
            f"{seconds:.0f} s"
        )
    return rows


NOTES = [
    "HistGradientBoosting on 21 ratios (the 16 plus return on equity, operating income, revenue and net income "
    "to liabilities, and revenue growth minus asset growth) reached 0.8804 against 0.8845 on the 16: the extra "
    "ratios were left out.",
    "Distillation from a HistGradientBoosting teacher (loss + 0.5 x squared distance to the teacher's "
    "log-odds) was started and stopped unfinished: on this shared machine it took about 230 s a year "
    "(the teacher refitted for every fit), too slow for the time there was.",
]


def markdown(rows: list[dict]) -> str:
    lines = [
        "# Network recipes on the rolling-origin yardstick",
        "",
        "Made by `python -m training.compare`. Mean per-year ROC-AUC 2010-2018 on the rows version 1 can "
        "score; intervals from 500 paired company-level bootstrap resamples (the report's final figures "
        "use 2000). The test years are never read for a choice.",
        "",
        "| candidate | mean ROC-AUC | minus version 1 [95 %] | minus HGB | legacy five only | wall seconds (shared machine) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row["result"]
        c = r["candidate"]
        d = c["difference_interval"]
        lines.append(
            f"| {row['name']} | {c['mean_auc']:.4f} | {c['minus_version_1']:+.4f} [{d[0]:+.4f}, {d[1]:+.4f}] | "
            f"{c['mean_auc'] - r['hist_gradient_boosting']['mean_auc']:+.4f} | "
            f"{r['five_only']['mean_auc']:.4f} | {row['seconds']:.0f} |"
        )
    if rows:
        r = rows[0]["result"]
        lines += [
            "",
            f"Version 1: {r['version_1']['mean_auc']:.4f}; HistGradientBoosting on the same 16 ratios: "
            f"{r['hist_gradient_boosting']['mean_auc']:.4f}.",
            "",
            *[f"- {note}" for note in NOTES],
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=data.ROOT / "training" / "report" / "selection.md")
    parser.add_argument("names", nargs="*", help="candidates to run (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = compare(data.load_us(args.data_dir), args.names or list(CANDIDATES))
    if not args.names:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown(rows), encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
