"""The training report: report.md (numbers, from the manifest) and report.png (ROC and calibration)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

TARGET_TEST_AUC, TARGET_KR_AUC = 0.86, 0.87
NAMES = {"ours": "this model (MLP)", "logistic_regression": "logistic regression",
         "hist_gradient_boosting": "HistGradientBoosting", "altman_z_1968": "Altman Z (1968)"}


def _cell(metrics: Any, key: str) -> str:
    return f"{metrics[key]:.4f}" if isinstance(metrics, dict) and key in metrics else "n/a"


def metrics_table(metrics: dict[str, Any]) -> list[str]:
    rows = {"ours": {s: metrics[s] for s in ("validation", "test", "kr_dart")}, **metrics["baselines"]}
    lines = ["| model | validation ROC-AUC | test ROC-AUC | test PR-AUC | test Brier | kr-dart ROC-AUC |",
             "|---|---|---|---|---|---|"]
    for name, by_set in rows.items():
        lines.append(f"| {NAMES[name]} | {_cell(by_set['validation'], 'roc_auc')} | "
                     f"{_cell(by_set['test'], 'roc_auc')} | {_cell(by_set['test'], 'pr_auc')} | "
                     f"{_cell(by_set['test'], 'brier')} | {_cell(by_set['kr_dart'], 'roc_auc')} |")
    return lines


def confusion_line(name: str, c: dict[str, Any]) -> str:
    return (f"- {name}: {c['true_positive']} of {c['true_positive'] + c['false_negative']} failures flagged "
            f"(recall {c['recall']:.2f}), precision {c['precision']:.2f}, "
            f"{c['false_positive']} of {c['false_positive'] + c['true_negative']} sound company-years "
            f"flagged (false-positive rate {c['false_positive_rate']:.3f})")


def markdown(manifest: dict[str, Any]) -> str:
    m, data, training = manifest["metrics"], manifest["training_data"], manifest["training"]
    test, kr = m["test"], m["kr_dart"]
    cal = manifest["calibration"]
    lines = [
        f"# Training report: {manifest['model']['name']} {manifest['model']['version']}",
        "",
        f"Made by `{manifest['created']['command']}` (seed {manifest['created']['seed']}) "
        f"in {training['seconds']} s. Figures below are measured by that run.",
        "",
        "## Data and label",
        "",
        f"- Source: `{data['source']}` ({data['rows_in_file']} company-years, {data['companies']} companies; "
        "US NYSE/NASDAQ listed companies, 1999-2018, amounts in millions of USD).",
        f"- Label: {data['label']} ({data['dropped_earlier_rows_of_failed_companies']} such earlier rows dropped).",
        "- Statement fields: " + ", ".join(f"{k} = {v}" for k, v in data["columns"].items())
        + "; the data has no equity column, so equity is assets minus liabilities.",
        "- Prior-year values come only from the same company's row of the year before; across a gap "
        f"(missing year) the growth ratios are unknown ({data['rows_without_prior_year']} labelled rows "
        "have no prior year).",
        f"- Features: {', '.join(manifest['features'])}. Rule: {training['feature_decision']['rule']}; "
        "the validation comparison behind it is in [selection.md](selection.md).",
        f"- Network: {manifest['network']['note']} (hidden {manifest['network']['hidden']}); each member "
        "trained with class weights (positives weighted to balance) and kept at its epoch of best "
        "validation ROC-AUC: " + ", ".join(
            f"seed {m['seed']} epoch {m['best_epoch']} ({m['validation_roc_auc']})" for m in training["members"])
        + f"; averaged {training['validation_roc_auc_averaged']}.",
        f"- Preprocessing: clip to the train years' {manifest['created']['config']['clip_quantiles']} quantiles, "
        f"then {manifest['created']['config']['scaler']} "
        f"(steps: {', '.join(step['kind'] for step in manifest['preprocessing'])}).",
        "",
        "| split | years | rows used | positives | dropped (a feature undefined) |",
        "|---|---|---|---|---|",
        *[f"| {name} | {s['years'][0]}-{s['years'][1]} | {s['rows']} | {s['positives']} | "
          f"{s['dropped_feature_undefined']} |" for name, s in data["splits"].items()],
        "",
        "## Results",
        "",
        *metrics_table(m),
        "",
        f"Test Brier {test['brier']:.5f} against {test['base_rate_brier']:.5f} for always forecasting the "
        f"test base rate ({test['base_rate']:.2%}). Altman's Z ranks only (no probability, so no Brier).",
        "",
        "Against the project's targets: " + "; ".join(
            f"{name} {value:.4f} {'meets' if value >= goal else 'misses'} {goal}" for name, value, goal in (
                ("test ROC-AUC", test["roc_auc"], TARGET_TEST_AUC),
                ("kr-dart ROC-AUC", kr["roc_auc"], TARGET_KR_AUC)))
        + f"; test Brier {'beats' if test['brier'] < test['base_rate_brier'] else 'does not beat'} the base rate's.",
        "",
        "## Threshold and calibration",
        "",
        f"- Threshold {manifest['decision']['threshold']:.4f}: {manifest['decision']['rule']}",
        confusion_line("validation", m["validation"]["at_threshold"]),
        confusion_line(f"validation, had Youden's J chosen "
                       f"({manifest['decision']['alternatives']['youden_j']['threshold']:.4f})",
                       manifest["decision"]["alternatives"]["youden_j"]),
        confusion_line("test", test["at_threshold"]),
        f"- Platt calibration on the validation years: P = sigmoid({cal['a']:.4f} (z1 - z0) + {cal['b']:.4f}); "
        f"mean test probability {test['mean_probability']:.4f} vs test base rate {test['base_rate']:.4f}.",
        "",
        "Test reliability (ten bins of equal count, by forecast):",
        "",
        "| rows | mean forecast | observed rate |",
        "|---|---|---|",
        *[f"| {b['rows']} | {b['mean_probability']:.4f} | {b['observed_rate']:.4f} |" for b in test["reliability"]],
        "",
        "## External check: Korean DART statements (KRW)",
        "",
        f"Never used for training, tuning or the threshold. {kr['rows']} company-years with all features "
        f"defined, {kr['positives']} positives (distress delisting within two years), so the figure is noisy. "
        f"ROC-AUC {kr['roc_auc']:.4f} (the seed's own published model: 0.886 on 32 positives). "
        f"Altman's Z: {m['baselines']['altman_z_1968']['kr_dart']}.",
        "",
        "## Limits",
        "",
        *[f"- {limit}" for limit in manifest["limits"]],
        "",
        "![ROC and calibration curves](report.png)",
        "",
    ]
    return "\n".join(lines)


def figure(path: Path, scores: dict[str, dict[str, np.ndarray]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    for ax, set_name, title in ((axes[0], "test", "ROC, US test years 2015-2018"),
                                (axes[1], "kr_dart", "ROC, Korean DART (external)")):
        y = scores[set_name]["label"]
        for name, score in scores[set_name].items():
            if name == "label":
                continue
            defined = np.isfinite(score)
            fpr, tpr, _ = roc_curve(y[defined], score[defined])
            ax.plot(fpr, tpr, label=NAMES[name], linewidth=2 if name == "ours" else 1)
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
        ax.set(title=title, xlabel="false-positive rate", ylabel="true-positive rate")
        ax.legend(loc="lower right", fontsize=8)
    _reliability_panel(axes[2], scores["test"]["label"], scores["test"]["ours"])
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


def _reliability_panel(ax: Any, y: np.ndarray, p: np.ndarray) -> None:
    from .evaluate import reliability

    bins = reliability(y, p)
    forecast = [b["mean_probability"] for b in bins]
    observed = [b["observed_rate"] for b in bins]
    top = max(max(forecast), max(observed)) * 1.1
    ax.plot([0, top], [0, top], color="grey", linestyle=":", label="perfect calibration")
    ax.plot(forecast, observed, marker="o", label="this model, ten equal-count bins")
    ax.set(title="Calibration, US test years", xlabel="mean forecast probability", ylabel="observed rate")
    ax.legend(loc="upper left", fontsize=8)


def write(directory: Path | str, manifest: dict[str, Any], scores: dict[str, dict[str, np.ndarray]]) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.md").write_text(markdown(manifest), encoding="utf-8")
    figure(directory / "report.png", scores)
