"""Train, judge and write the bundled soundness model (version 2); one command does it all.

    python -m training.train --out artifacts/default --report training/report [--data-dir DIR]
        [--jobs N] [--cache]

1. The rolling-origin yardstick (training.yardstick): this recipe, the version-1 recipe,
   logistic regression and HistGradientBoosting on the same inputs, each year 2010-2018
   scored by a model fitted on the years before it; paired company-level bootstrap
   intervals (training.bootstrap), over 2010-2014 (the years recipes are chosen on) and
   2010-2018. Also this recipe's model given only the legacy five.
2. The fixed split (training.data.SPLITS), which is the served model: fit on 1999-2011;
   epochs, Platt calibration, the threshold, the grades' cut points and the fewest known
   features it judges on, all chosen on 2012-2014; the test years 2015-2018 read once here,
   to report (with the same baselines fitted the same way) and to measure each grade's
   event rate on years the model never saw.
3. The Korean DART table, never used for any choice: the served model next to the legacy
   published model on the rows it can score, paired; each grade's distress-delisting rate.
Every score is computed afresh unless --cache is given (then the rolling scores are kept in
.cache/rolling, keyed by the code, libraries and data as well as the recipe): the committed
artifact and report come from `make train`, without it. Threads are pinned to one per
process (training.provenance), so a rerun on the same machine kind gives the same bits.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from soundness.ratios import LEGACY_FEATURES

from . import background, bootstrap, data, evaluate, export, grading, provenance, recipes, report, yardstick
from .data import years

MODEL_NAME = "us-bankruptcy-mlp"
MODEL_VERSION = "2.2.0"
QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
# The served model is the fixed split's: nothing it was chosen by, and none of the grades'
# event rates, comes from a year it was fitted on or the test years.
FIXED = {"fit": data.SPLITS["train"], "validation": data.SPLITS["validation"], "test": data.SPLITS["test"]}
SERVED = {"fit": FIXED["fit"], "validation": FIXED["validation"]}
JOBS = 3  # worker processes for the rolling yardstick: the scores are the same bits with any number
LEGACY_ARTIFACTS = data.ROOT.parent / "shared" / "reference" / "seed-artifacts"
LEGACY_PUBLISHED_KR_AUC = 0.886
# Chosen on the rolling yardstick (training/report/selection.md, `python -m training.compare`):
# the network distilled from HistGradientBoosting's log-odds on the same rows.
CHOSEN = recipes.NetworkConfig(
    members=2, batch_size=2048, learning_rate=0.003, patience=8, max_epochs=40, five_only_fraction=0.2, distill=2.0
)


def chosen_recipe() -> recipes.NetworkRecipe:
    return recipes.NetworkRecipe(CHOSEN, recipes.BoostingRecipe())


THRESHOLD_RULE = (
    "unsound when the calibrated probability_unsound >= threshold; the threshold maximises F1 of the "
    "unsound class on the validation years. Failures are about 1% of company-years, so F1 weighs missed "
    "failures against false alarms among the few flagged companies; Youden's J (decision.alternatives) "
    "would call a far larger share of sound companies unsound."
)


# ---------------------------------------------------------------- calibration and the decision


def fit_platt(margin: np.ndarray, y: np.ndarray, fitted_on: str) -> dict[str, Any]:
    """P(unsound) = sigmoid(a * margin + b), fitted (unpenalised) on rows the network did not fit."""
    fit = LogisticRegression(C=np.inf, max_iter=1000).fit(margin.reshape(-1, 1), y)
    return {"method": "platt", "a": float(fit.coef_[0, 0]), "b": float(fit.intercept_[0]), "fitted_on": fitted_on}


def platt(calibration: dict[str, Any], margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(calibration["a"] * margin + calibration["b"])))


def max_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def youden_threshold(p: np.ndarray, y: np.ndarray) -> float:
    fpr, tpr, thresholds = roc_curve(y, p)
    return float(thresholds[int(np.argmax(tpr - fpr))])


def decision(p_val: np.ndarray, y_val: np.ndarray, span: tuple[int, int]) -> dict[str, Any]:
    """The F1 threshold, with what Youden's J would have chosen next to it (both on validation)."""
    chosen, youden = round(max_f1_threshold(p_val, y_val), 6), round(youden_threshold(p_val, y_val), 6)
    return {
        "threshold": chosen,
        "rule": THRESHOLD_RULE,
        "chosen_on": f"validation years {span[0]}-{span[1]}",
        "validation": evaluate.confusion(y_val, p_val, chosen),
        "alternatives": {"youden_j": evaluate.confusion(y_val, p_val, youden)},
    }


# ---------------------------------------------------------------- one fitted and calibrated model


def fit_calibrated(
    recipe: recipes.NetworkRecipe, frame: pd.DataFrame, split: dict[str, tuple[int, int]]
) -> tuple[recipes.FittedNetwork, dict[str, Any], dict[str, Any]]:
    """Fit on split["fit"], members kept at their best epoch on split["validation"], where
    Platt calibration and the threshold are fitted too."""
    fitted = recipe.fit_validated(years(frame, split["fit"]), years(frame, split["validation"]))
    val = years(frame, split["validation"])
    val = val[recipe.usable(val)]
    span = split["validation"]
    calibration = fit_platt(fitted(val), val["label"].to_numpy(), f"validation years {span[0]}-{span[1]}")
    return fitted, calibration, decision(platt(calibration, fitted(val)), val["label"].to_numpy(), span)


# ---------------------------------------------------------------- 1. the rolling yardstick


def rolling_recipes(recipe: recipes.NetworkRecipe) -> dict[str, Any]:
    return {
        "ours": recipe,
        "version_1": recipes.version1(),
        "logistic_regression": recipes.LogisticRecipe(),
        "hist_gradient_boosting": recipes.BoostingRecipe(),
    }


def rolling(
    table: data.Table, scores: dict[str, pd.DataFrame], from_cache: dict[str, bool]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per-year ROC-AUC of each recipe (yardstick.start's scores) and the paired intervals against
    version 1, over the years recipes are chosen on (2010-2014) and over all nine; and how the
    scores were got (seconds, whether from the cache), which is not a figure of the model."""
    seconds = {name: round(float(s.groupby("year")["seconds"].first().sum()), 1) for name, s in scores.items()}
    columns = {
        **{name: s[["row", "score"]] for name, s in scores.items()},
        "ours_five_only": scores["ours"][["row", "score_five_only"]].rename(columns={"score_five_only": "score"}),
    }
    common = yardstick.common_rows(table, columns)  # the rows version 1 can score (all five defined)
    names = list(columns)
    per_year = {
        n: {int(t): round(float(roc_auc_score(g["label"], g[n])), 4) for t, g in common.groupby("year")} for n in names
    }

    def judged(rows: pd.DataFrame) -> dict[str, Any]:
        y, year, company = (rows[c].to_numpy() for c in ("label", "year", "company"))
        return {
            "years": [int(year.min()), int(year.max())],
            "rows": len(rows),
            "positives": int(y.sum()),
            "models": bootstrap.paired(y, year, company, {n: rows[n].to_numpy() for n in names}, "version_1"),
        }

    everything = scores["ours"].join(table.frame[["label", "company"]], on="row")
    all_rows = bootstrap.paired(
        everything["label"].to_numpy(),
        everything["year"].to_numpy(),
        everything["company"].to_numpy(),
        {"ours": everything["score"].to_numpy()},
        "ours",
    )
    choice = judged(common[common["year"].isin(yardstick.CHOICE_YEARS)])
    result = {
        **judged(common),
        "resamples": bootstrap.RESAMPLES,
        "choice_years": choice,
        "per_year": per_year,
        "ours_on_every_scoreable_row": {
            "rows": len(everything),
            "positives": int(everything["label"].sum()),
            **all_rows["ours"],
        },
    }
    return result, {"seconds": seconds, "from_cache": from_cache}


# ---------------------------------------------------------------- 2. the fixed split


def fixed_split(
    table: data.Table, recipe: recipes.NetworkRecipe, log=print
) -> tuple[dict[str, Any], recipes.FittedNetwork, dict[str, Any], dict[str, np.ndarray]]:
    frame = table.frame
    fitted, calibration, chosen = fit_calibrated(recipe, frame, FIXED)
    log(f"fixed split: epochs {fitted.epochs}, Platt a={calibration['a']:.3f} b={calibration['b']:.3f}")
    test = years(frame, FIXED["test"])
    test = test[recipe.usable(test)]
    y = test["label"].to_numpy()
    p = platt(calibration, fitted(test))
    metrics = {"ours": evaluate.full_metrics(y, p, chosen["threshold"])}
    scores = {"label": y, "ours": p}
    baselines = {
        "version_1": recipes.version1(),
        "logistic_regression": recipes.LogisticRecipe(),
        "hist_gradient_boosting": recipes.BoostingRecipe(),
    }
    fit, val = years(frame, FIXED["fit"]), years(frame, FIXED["validation"])
    for name, baseline in baselines.items():
        scorer = (
            baseline.fit_validated(fit, val)
            if isinstance(baseline, recipes.NetworkRecipe)
            else baseline.fit(fit, baseline.select(fit, val))
        )
        usable = baseline.usable(test).to_numpy()
        scores[name] = np.full(len(test), np.nan)
        scores[name][usable] = scorer(test[usable])
        metrics[name] = evaluate.ranking_metrics(y[usable], scores[name][usable])
    # Paired on the rows version 1 can score; ours also on every row it scores.
    common = np.isfinite(scores["version_1"])
    metrics["paired_on_version_1_rows"] = bootstrap.single_auc(
        y[common], test["company"].to_numpy()[common], {n: scores[n][common] for n in ("ours", *baselines)}, "version_1"
    )
    metrics["ours"]["interval"] = bootstrap.single_auc(y, test["company"].to_numpy(), {"ours": p}, "ours")["ours"][
        "interval"
    ]
    metrics["altman_z_1968"] = evaluate.altman_metrics(test)
    return (
        {
            "splits": {k: list(v) for k, v in FIXED.items()},
            "calibration": calibration,
            "decision": chosen,
            "epochs": fitted.epochs,
            "test": metrics,
        },
        fitted,
        calibration,
        scores,
    )


# ---------------------------------------------------------------- 3. the Korean check


def legacy_model_scores(frame: pd.DataFrame) -> np.ndarray | None:
    """The legacy service's published model on the rows with its five ratios (NaN elsewhere); None without it."""
    from soundness import artifacts
    from soundness.predictor import Predictor

    from .import_legacy import import_legacy

    if not (LEGACY_ARTIFACTS / "predict_model.pth").is_file():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        directory = import_legacy(
            LEGACY_ARTIFACTS / "predict_model.pth", LEGACY_ARTIFACTS / "minmax_scaler.pkl", Path(scratch) / "seed"
        )
        predictor = Predictor(artifacts.load(directory))
    defined = frame[list(LEGACY_FEATURES)].notna().all(axis=1).to_numpy()
    out = np.full(len(frame), np.nan)
    out[defined] = predictor.probabilities(frame.loc[defined, list(LEGACY_FEATURES)].to_numpy(float))
    return out


def korean_rows(kr: data.Table) -> pd.DataFrame:
    """Every Korean company-year with a ratio known (the rest cannot be scored)."""
    return kr.frame[kr.frame[list(recipes.ALL_RATIOS)].notna().any(axis=1)]


def korean(kr: data.Table, models: dict[str, tuple[recipes.FittedNetwork, dict]]) -> tuple[dict, dict]:
    frame = korean_rows(kr)
    y, company = frame["label"].to_numpy(), frame["company"].to_numpy()
    scores = {name: platt(cal, fitted(frame)) for name, (fitted, cal) in models.items()}
    out: dict[str, Any] = {
        "rows": len(frame),
        "positives": int(y.sum()),
        "source": str(data.KR_FILE),
        "label": kr.label_definition,
        "event": grading.KR_EVENT,
        **{k: v for k, v in kr.facts.items() if k == "after_delisting_rows_left_out"},
    }
    out["every_row"] = bootstrap.single_auc(y, company, scores, "served")
    out["served_metrics"] = evaluate.probability_metrics(y, scores["served"])
    legacy = legacy_model_scores(frame)
    if legacy is not None:
        common = np.isfinite(legacy)
        out["seed_rows"] = {
            "rows": int(common.sum()),
            "positives": int(y[common].sum()),
            **bootstrap.single_auc(
                y[common],
                company[common],
                {**{n: s[common] for n, s in scores.items()}, "seed": legacy[common]},
                "seed",
            ),
        }
        scores["seed"] = legacy
    return out, {"label": y, **scores}


# ---------------------------------------------------------------- the manifest


def feature_quantiles(frame: pd.DataFrame, features: list[str]) -> dict[str, Any]:
    values = np.nanquantile(frame[features].to_numpy(float), QUANTILES, axis=0)
    return {
        name: {"q": QUANTILES, "values": [round(float(v), 6) for v in values[:, i]]} for i, name in enumerate(features)
    }


def limits(features: list[str]) -> list[dict[str, str]]:
    """What the model cannot say, in Korean and English (the page shows them in its language)."""
    fit, validation = (f"{SERVED[name][0]}-{SERVED[name][1]}" for name in ("fit", "validation"))
    return [
        {
            "ko": "미국 NYSE·NASDAQ 상장사(Lombardo et al. 2022)로 학습했습니다: "
            f"{fit} 회계연도로 적합하고, {validation} 회계연도로 조기 종료·보정·기준값을 정했습니다. "
            "한국 DART 재무제표로는 검증만 했습니다.",
            "en": "Learned from US companies listed on NYSE and NASDAQ (Lombardo et al. 2022): fitted on fiscal "
            f"years {fit}, early-stopped, calibrated and thresholded on {validation}. On Korean DART statements "
            "it is only checked.",
        },
        {
            "ko": "입력은 단위가 없는 비율이라 원화·달러 등 한 통화로 쓴 재무제표는 같은 답을 받습니다. 한 재무제표 "
            "안에서 항목마다 단위를 섞으면 그렇지 않습니다. 회사 규모는 일부러 입력에서 뺐습니다.",
            "en": "The inputs are unit-free ratios, so statements in KRW, USD or any one currency give the same "
            "answer; mixing units between fields of one statement does not. Company size is deliberately not an "
            "input.",
        },
        {
            "ko": "미국 자료에는 자본 항목이 없어 자본을 자산총계 - 부채총계로 구했습니다.",
            "en": "The US data has no equity column: equity was taken as total assets - total liabilities.",
        },
        {
            "ko": "학습한 사건은 '1년 안에 미국 파산법 제7장 또는 제11장 신청'입니다. 그 밖의 부실(상장폐지, 법원 밖 "
            "구조조정, 부실기업 인수)은 건전으로 셌습니다.",
            "en": "The label is 'files for Chapter 7 or 11 within the next year'; other distress (delisting, "
            "restructuring out of court, takeover of a failing firm) counts as sound.",
        },
        {
            "ko": "파산은 회사-연도의 약 1%에 불과합니다: 비건전 확률이 높아도 그런 회사 대부분은 1년 안에 파산하지 "
            "않습니다.",
            "en": "Failures are about 1% of company-years: even a high probability_unsound means most such "
            "companies do not fail within a year.",
        },
        {
            "ko": f"재무제표 아홉 값으로 만든 비율 {len(features)}개만 씁니다: 현금흐름, 시장가치, 감사의견은 "
            "모릅니다.",
            "en": f"Uses only {len(features)} ratios of nine statement values: it knows nothing about cash flow, "
            "market value or auditors' opinions.",
        },
        {
            "ko": "계산할 수 없는 비율(전년도 없음, 분모가 0이나 음수)은 표시와 함께 '알 수 없음'으로 신경망에 "
            "들어갑니다: 아는 비율이 적을수록 답이 말해 주는 것도 적습니다.",
            "en": "A ratio that cannot be computed (no prior year, a zero or negative denominator) is given to the "
            "network as unknown, with an indicator; the fewer ratios known, the less the answer can say.",
        },
        {
            "ko": "학습 연도의 범위를 벗어난 비율은 학습 자료의 가장 극단적인 값처럼 점수가 매겨집니다.",
            "en": "Ratios beyond the training years' range score like the most extreme training values.",
        },
    ]


def distillation(recipe: recipes.NetworkRecipe) -> str:
    fitted = f"{recipe.teacher_folds}-fold out-of-fold" if recipe.teacher_folds > 1 else "in-sample"
    return (
        f"loss: class-weighted cross-entropy + {recipe.config.distill} x the mean squared distance of each "
        f"member's log-odds to a {recipe.teacher.name} teacher's {fitted} log-odds (plus the class weight's "
        "log), the teacher fitted on the network's fit rows, its iterations and learning rate chosen on the "
        "validation years"
    )


def build_manifest(
    recipe: recipes.NetworkRecipe,
    us: data.Table,
    fitted: recipes.FittedNetwork,
    calibration: dict,
    chosen: dict,
    evaluation: dict,
    created: dict[str, Any],
) -> dict[str, Any]:
    features = fitted.features
    fit_rows = years(us.frame, SERVED["fit"])
    config = recipe.config
    return {
        "model": {
            "name": MODEL_NAME,
            "version": MODEL_VERSION,
            "description": (
                "Neural network scoring the risk that a listed company files for bankruptcy "
                f"within a year, from {len(features)} unit-free ratios of nine statement "
                "values; unknown ratios are inputs too."
            ),
        },
        "created": {"by": "training.train", "config": asdict(config), **created},
        "features": features,
        "network": {
            "architecture": "NeuralNet",
            "input_size": 2 * len(features),
            "hidden": [w * config.members for w in config.hidden],
            "num_classes": 2,
            "negative_slope": config.negative_slope,
            "dropout": config.dropout,
            "note": f"{config.members} networks of hidden widths {list(config.hidden)} side by side "
            "(block-diagonal): its logits are the mean of theirs",
            "epochs": fitted.epochs,
            **({"distillation": distillation(recipe)} if recipe.teacher else {}),
        },
        "decision": chosen,
        "calibration": calibration,
        "explanation": dict(EXPLANATION),
        "metrics": evaluation,
        "training_data": {
            "description": {
                "ko": "미국 NYSE·NASDAQ 상장사, 1999-2018 회계연도(Lombardo et al. 2022); "
                "사건: 1년 안에 미국 파산법 제7장 또는 제11장 신청",
                "en": "US companies listed on NYSE and NASDAQ, fiscal years 1999-2018 "
                "(Lombardo et al. 2022); label: files for Chapter 7 or 11 within the next year",
            },
            "source": str(data.US_FILE),
            "label": us.label_definition,
            "columns": {**data.US_COLUMNS, "total_equity": "X10 - X17"},
            **us.facts,
            "served_model": {
                name: {
                    "years": list(span),
                    "rows": int(recipe.usable(years(us.frame, span)).sum()),
                    "positives": int(years(us.frame, span)["label"].sum()),
                }
                for name, span in SERVED.items()
            },
        },
        "feature_quantiles": feature_quantiles(fit_rows, features),
        "limits": limits(features),
    }


EXPLANATION = {
    "method": "DeepSHAP: DeepLIFT's rescale rule, its weighted mean over background rows (soundness.explain)",
    "unit": "log_odds",
    "background": f"{background.DESCRIPTION}; measured against {background.REFERENCE_ROWS} random rows in "
    "training/report/background.md",
    "additivity": "baseline + sum(contributions) = the row's calibrated log-odds, exactly (float rounding)",
}


def write_artifact(
    out: Path, fitted: recipes.FittedNetwork, calibration: dict, manifest: dict, fit: pd.DataFrame, val: pd.DataFrame
) -> Path:
    """The served model as a format-2 artifact, held to torch's forward (training.export)."""
    pool, probes = background.draw(fitted, background.usable(fit, fitted.features), seed=0)
    model = export.Model(fitted.network, calibration=calibration, steps=fitted.prepare.steps, background=pool)
    manifest = {**manifest, "explanation": dict(EXPLANATION)}
    model.background, model.background_weights = background.summary(
        export.artifact(model, manifest), probes, background.ROWS
    )
    rows = np.vstack([val[fitted.features].to_numpy(float), export.check_rows(model, fitted.features)])
    return export.write(out, model, manifest, rows)


def run(
    recipe: recipes.NetworkRecipe,
    us: data.Table,
    kr: data.Table,
    out: Path | None,
    report_dir: Path | None,
    command: str,
    log=print,
    cache: bool = False,
    jobs: int = JOBS,
) -> dict[str, Any]:
    started, at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    threads = provenance.pin_threads()
    # The rolling yardstick in worker processes while this one fits and judges the served model.
    collect = yardstick.start(rolling_recipes(recipe), us, yardstick.YEARS, log, cache, jobs)
    fixed, served, calibration, test_scores = fixed_split(us, recipe, log)
    chosen = fixed["decision"]
    log(f"served model (the fixed split's): epochs {served.epochs}, threshold {chosen['threshold']}")
    kr_dart, kr_scores = korean(kr, {"served": (served, calibration)})
    evaluation: dict[str, Any] = {}
    evaluation["rolling"], how = rolling(us, *collect())
    log(f"rolling yardstick done ({time.monotonic() - started:.0f} s)")
    evaluation["fixed_split"], evaluation["kr_dart"] = fixed, kr_dart
    created = {
        "command": command,
        "at": at,
        **provenance.record(threads, us.source.parents[1], [data.US_FILE, data.KR_FILE]),
        "rolling_scores_from_cache": how["from_cache"],
        # Wall time is the one thing a rerun does not reproduce (with `at`).
        "wall_seconds": {"total": round(time.monotonic() - started, 1), "rolling": how["seconds"]},
    }
    manifest = build_manifest(recipe, us, served, calibration, chosen, evaluation, created)
    with tempfile.TemporaryDirectory() as scratch:
        directory = out if out is not None else Path(scratch) / "model"
        write_artifact(
            directory,
            served,
            calibration,
            manifest,
            years(us.frame, FIXED["fit"]),
            years(us.frame, FIXED["validation"]),
        )
        # What the probability means, measured with the written artifact's own predictor.
        manifest = grading.regrade(directory, us, kr, FIXED)
    if report_dir is not None:
        report.write(report_dir, manifest, {"test": test_scores, "kr_dart": kr_scores})
    log(report.summary(manifest))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="artifact directory to write")
    parser.add_argument("--report", type=Path, help="directory for report.md and its pictures")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=data.DEFAULT_DATA_DIR,
        help="directory holding us-bankruptcy/ and kr-dart/ (default: ../shared/data)",
    )
    parser.add_argument(
        "--jobs", type=int, default=JOBS, help=f"worker processes for the rolling yardstick (default {JOBS})"
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="reuse and keep rolling scores in .cache/rolling (recorded in the manifest; off for committed outputs)",
    )
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "training.train", *(sys.argv[1:] if argv is None else argv)])
    try:
        us, kr = data.load_us(args.data_dir), data.load_kr(args.data_dir)
    except OSError as exc:
        print(f"train: cannot read the data: {exc}", file=sys.stderr)
        return 2
    run(chosen_recipe(), us, kr, args.out, args.report, command, cache=args.cache, jobs=args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
