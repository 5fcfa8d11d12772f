"""Train the bundled soundness model on the US bankruptcy data and write its artifact and report.

    python -m training.train --out artifacts/default --report training/report [--data-dir DIR] [--seed 0]

Train years fit the network; validation years choose the epoch (ROC-AUC), fit the Platt
calibration and pick the decision threshold; the test years and the Korean table are read
once at the end, to report. Same seed, same data -> the same weights and metrics.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from soundness import artifacts
from soundness.predictor import Predictor
from soundness.ratios import SEED_FEATURES

from . import data, evaluate, export, report
from .ensemble import average_networks
from .network import NeuralNet

MODEL_NAME = "us-bankruptcy-mlp"
MODEL_VERSION = "1.0.0"
QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
TARGET_VALIDATION_AUC = 0.86  # below it on the seed's five, a wider ratio set would be justified
THRESHOLD_RULE = (
    "unsound when the calibrated probability_unsound >= threshold; the threshold maximises F1 of "
    "the unsound class on the validation years (2012-2014). Failures are about 1% of company-years, "
    "so F1 weighs missed failures against false alarms among the few flagged companies; Youden's J "
    "(decision.alternatives) would call a far larger share of sound companies unsound.")


@dataclass(frozen=True)
class Config:
    features: tuple[str, ...] = SEED_FEATURES
    hidden: tuple[int, ...] = (32, 32, 16)
    dropout: float = 0.1
    negative_slope: float = 0.01
    # Ratios are heavy-tailed (growth of a near-empty company runs to 10^5 %). A rank-based
    # scaler with bounds at the train 5th/95th percentiles did best on validation
    # (training/report/selection.md, made by `python -m training.compare`).
    clip_quantiles: tuple[float, float] = (0.05, 0.95)
    scaler: str = "quantile_normal"  # or "standard"
    n_quantiles: int = 1000
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 512
    max_epochs: int = 60
    patience: int = 15
    seed: int = 0
    threads: int = 1
    # Networks from this many seeds, averaged into one (training.ensemble): slightly better on
    # validation than any one of them on its own (selection.md), and steadier from seed to seed.
    members: int = 5

    def member_seeds(self) -> list[int]:
        return [self.seed * self.members + i for i in range(self.members)]


@contextmanager
def deterministic(seed: int, threads: int) -> Iterator[None]:
    """Seeded, deterministic torch on a fixed thread count; the caller's settings come back after."""
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def model_rows(table: data.Table, features: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Each split's rows with every model feature defined, and how many were dropped per split."""
    splits, dropped = {}, {}
    for name in data.SPLITS:
        frame = table.split(name)
        defined = frame[features].notna().all(axis=1)
        splits[name], dropped[name] = frame[defined], int((~defined).sum())
    return splits, dropped


@dataclass
class Preprocessing:
    """Clip each feature to train-quantile bounds, then scale: what the manifest tells the server."""

    lower: np.ndarray
    upper: np.ndarray
    scaler: Any

    @classmethod
    def fit(cls, x: np.ndarray, config: Config) -> "Preprocessing":
        lower, upper = (np.quantile(x, q, axis=0) for q in config.clip_quantiles)
        scalers = {"standard": lambda: StandardScaler(),
                   "quantile_normal": lambda: QuantileTransformer(
                       n_quantiles=config.n_quantiles, output_distribution="normal", subsample=None)}
        return cls(lower, upper, scalers[config.scaler]().fit(np.clip(x, lower, upper)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.scaler.transform(np.clip(x, self.lower, self.upper))


def margins(network: NeuralNet, x: np.ndarray) -> np.ndarray:
    """z1 - z0 of the network's logits: what Platt calibration maps to a probability."""
    network.eval()
    with torch.inference_mode():
        logits = network(torch.from_numpy(np.asarray(x, np.float32)))
    return (logits[:, 1] - logits[:, 0]).double().numpy()


def train_network(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                  config: Config, log=print) -> tuple[NeuralNet, list[float], int]:
    """Class-weighted training, kept at the epoch of best validation ROC-AUC.

    Returns the network (eval mode, best weights), the per-epoch validation ROC-AUC and the best epoch.
    """
    with deterministic(config.seed, config.threads):
        return _train_network(x, y, x_val, y_val, config, log)


def _train_network(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                   config: Config, log) -> tuple[NeuralNet, list[float], int]:
    network = NeuralNet(x.shape[1], list(config.hidden), 2, config.negative_slope, config.dropout)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    # ~1% positives: weight them up to balance the classes; Platt undoes the shift later.
    positive_rate = float(y.mean())
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, (1 - positive_rate) / positive_rate]))
    inputs, targets = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64))
    order = np.random.default_rng(config.seed)
    history: list[float] = []
    best_state, best_epoch = None, -1
    for epoch in range(config.max_epochs):
        network.train()
        permutation = torch.from_numpy(order.permutation(len(x)))
        # drop a last batch of one row: BatchNorm cannot train on it
        for start in range(0, len(x) - 1, config.batch_size):
            batch = permutation[start:start + config.batch_size]
            optimiser.zero_grad()
            loss_fn(network(inputs[batch]), targets[batch]).backward()
            optimiser.step()
        history.append(float(roc_auc_score(y_val, margins(network, x_val))))
        if best_state is None or history[-1] > history[best_epoch]:
            best_epoch = epoch
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        if epoch % 10 == 9:
            log(f"  epoch {epoch + 1}: validation ROC-AUC {history[-1]:.4f} (best {history[best_epoch]:.4f})")
        if epoch - best_epoch >= config.patience:
            break
    network.load_state_dict(best_state)
    return network.eval(), history, best_epoch


def train_members(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                  config: Config, log=print) -> tuple[NeuralNet, list[dict[str, Any]]]:
    """One network per member seed, averaged into one; and what each member's training did."""
    networks, members = [], []
    for seed in config.member_seeds():
        network, history, best = train_network(x, y, x_val, y_val, replace(config, seed=seed), log)
        networks.append(network)
        members.append({"seed": seed, "epochs_run": len(history), "best_epoch": best + 1,
                        "validation_roc_auc": round(history[best], 4)})
        log(f"member seed {seed}: best epoch {best + 1}, validation ROC-AUC {history[best]:.4f}")
    return average_networks(networks, config.negative_slope, config.dropout), members


def fit_platt(margin: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """P(unsound) = sigmoid(a * margin + b), fitted (unpenalised) on validation rows."""
    fit = LogisticRegression(C=np.inf, max_iter=1000).fit(margin.reshape(-1, 1), y)
    return {"method": "platt", "a": float(fit.coef_[0, 0]), "b": float(fit.intercept_[0]),
            "fitted_on": "validation years"}


def max_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def youden_threshold(p: np.ndarray, y: np.ndarray) -> float:
    fpr, tpr, thresholds = roc_curve(y, p)
    return float(thresholds[int(np.argmax(tpr - fpr))])


def decision(p_val: np.ndarray, y_val: np.ndarray) -> dict[str, Any]:
    """The F1 threshold, with what Youden's J would have chosen next to it (both on validation)."""
    chosen, youden = max_f1_threshold(p_val, y_val), youden_threshold(p_val, y_val)
    return {"threshold": round(chosen, 6), "rule": THRESHOLD_RULE,
            "validation": evaluate.confusion(y_val, p_val, round(chosen, 6)),
            "alternatives": {"youden_j": evaluate.confusion(y_val, p_val, round(youden, 6))}}


def feature_quantiles(x: np.ndarray, features: list[str]) -> dict[str, Any]:
    values = np.quantile(x, QUANTILES, axis=0)
    return {name: {"q": QUANTILES, "values": [round(float(v), 6) for v in values[:, i]]}
            for i, name in enumerate(features)}


def split_facts(splits: dict[str, pd.DataFrame], dropped: dict[str, int]) -> dict[str, Any]:
    return {name: {"years": list(data.SPLITS[name]), "rows": len(frame),
                   "positives": int(frame["label"].sum()), "dropped_feature_undefined": dropped[name]}
            for name, frame in splits.items()}


def limits(features: list[str], clip: tuple[float, float]) -> list[str]:
    return [
        "Learned from US companies listed on NYSE and NASDAQ (Lombardo et al. 2022): fitted on fiscal years "
        "1999-2011, calibrated on 2012-2014, tested on 2015-2018. On Korean DART statements it is only checked.",
        "The inputs are unit-free ratios, so statements in KRW, USD or any one currency give the same answer; "
        "mixing units between fields of one statement does not.",
        "The US data has no equity column: equity was taken as total assets - total liabilities.",
        "The label is 'files for Chapter 7 or 11 within the next year'; other distress (delisting, "
        "restructuring out of court, takeover of a failing firm) counts as sound.",
        "Failures are about 1% of company-years: even a high probability_unsound means most such "
        "companies do not fail within a year. The probability is calibrated on 2012-2014.",
        f"Uses only {', '.join(features)}: it knows nothing about cash flow, market value or auditors' opinions.",
        "Growth ratios need the prior year; a company in its first listed year cannot be scored.",
        f"Ratios beyond the training years' {clip[0]:.0%}-{clip[1]:.0%} quantiles are clipped to them "
        "before scoring, so the most extreme values all score alike.",
    ]


def build_manifest(config: Config, us: data.Table, splits: dict[str, pd.DataFrame], dropped: dict[str, int],
                   training: dict[str, Any], command: str) -> dict[str, Any]:
    """Everything but the metrics and the decision, which need this manifest's predictor first,
    and the preprocessing and calibration, which training.export writes from the model."""
    features = list(config.features)
    train_x = splits["train"][features].to_numpy(float)
    return {
        "model": {"name": MODEL_NAME, "version": MODEL_VERSION,
                  "description": ("Neural network scoring the risk that a listed company files for bankruptcy "
                                  f"within a year, from {len(features)} unit-free ratios of its statements.")},
        "created": {"by": "training.train", "command": command, "seed": config.seed,
                    "member_seeds": config.member_seeds(), "config": asdict(config)},
        "features": features,
        "network": {"architecture": "NeuralNet", "input_size": len(features),
                    "hidden": [w * config.members for w in config.hidden], "num_classes": 2,
                    "negative_slope": config.negative_slope, "dropout": config.dropout,
                    "note": f"{config.members} networks of hidden widths {list(config.hidden)} side by side "
                            "(block-diagonal): its logits are the mean of theirs"},
        "decision": {"threshold": 0.5, "rule": "placeholder until validation picks the threshold"},
        "training": training,
        "metrics": {},
        "training_data": {
            "description": ("US companies listed on NYSE and NASDAQ, fiscal years 1999-2018 "
                            "(Lombardo et al. 2022); label: files for Chapter 7 or 11 within the next year"),
            "source": str(data.US_FILE), "sha256": artifacts.sha256_of(us.source),
            "label": us.label_definition, "columns": {**data.US_COLUMNS, "total_equity": "X10 - X17"},
            **us.facts, "splits": split_facts(splits, dropped)},
        "feature_quantiles": feature_quantiles(train_x, features),
        "limits": limits(features, config.clip_quantiles),
    }


def feature_decision(features: list[str]) -> dict[str, Any]:
    return {"features": features, "evidence": "training/report/selection.md (python -m training.compare)",
            "rule": (f"keep the seed's five ratios when, on the validation years with epochs chosen on "
                     f"earlier years, they reach ROC-AUC {TARGET_VALIDATION_AUC}; a wider set of ratios "
                     "only when they do not"),
            "seed_five": list(features) == list(SEED_FEATURES)}


def run(config: Config, us: data.Table, kr: data.Table, out: Path, report_dir: Path | None,
        command: str, log=print) -> dict[str, Any]:
    started = time.monotonic()
    features = list(config.features)
    splits, dropped = model_rows(us, features)
    kr_rows = kr.frame[kr.frame[features].notna().all(axis=1)]
    log("rows with all features: " + ", ".join(
        f"{n} {len(f)} ({int(f['label'].sum())} positive)" for n, f in splits.items()))
    x_train, y_train = splits["train"][features].to_numpy(float), splits["train"]["label"].to_numpy()
    x_val, y_val = splits["validation"][features].to_numpy(float), splits["validation"]["label"].to_numpy()
    prepare = Preprocessing.fit(x_train, config)
    network, members = train_members(prepare(x_train), y_train, prepare(x_val), y_val, config, log)
    validation_margins = margins(network, prepare(x_val))
    calibration = fit_platt(validation_margins, y_val)
    training = {"members": members, "feature_decision": feature_decision(features),
                "validation_roc_auc_averaged": round(float(roc_auc_score(y_val, validation_margins)), 4)}
    manifest = build_manifest(config, us, splits, dropped, training, command)
    model = export.Model(network, prepare.scaler, (prepare.lower, prepare.upper), calibration)
    predictor = Predictor(export.artifact(model, manifest))
    manifest = predictor.manifest  # now with the preprocessing steps and calibration it serves
    manifest["decision"] = decision(predictor.probabilities(x_val), y_val)
    log(f"averaged network: validation ROC-AUC {training['validation_roc_auc_averaged']:.4f}, "
        f"Platt a={calibration['a']:.3f} b={calibration['b']:.3f}, "
        f"threshold {manifest['decision']['threshold']:.4f}")
    # Everything is fixed now; the test years and the Korean table are read for the first time.
    metrics, scores = evaluate.evaluate(predictor.probabilities, splits, kr_rows, features,
                                        manifest["decision"]["threshold"], config.seed)
    metrics["kr_dart"]["source"] = str(data.KR_FILE)
    metrics["kr_dart"]["sha256"] = artifacts.sha256_of(kr.source)
    manifest["metrics"] = metrics
    manifest["training"]["seconds"] = round(time.monotonic() - started, 1)
    # Written only if the served numpy predictor gives torch's answers on the validation rows too.
    export.write(out, model, manifest, np.vstack([x_val, export.check_rows(model, features)]))
    if report_dir is not None:
        report.write(report_dir, manifest, scores)
    log(summary(metrics))
    return manifest


def summary(metrics: dict[str, Any]) -> str:
    test, kr = metrics["test"], metrics["kr_dart"]
    return (f"test ROC-AUC {test['roc_auc']} (Brier {test['brier']} vs base rate {test['base_rate_brier']}); "
            f"kr-dart ROC-AUC {kr['roc_auc']} ({kr['positives']} positives in {kr['rows']} rows)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="artifact directory to write")
    parser.add_argument("--report", type=Path, help="directory for report.md and report.png")
    parser.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR,
                        help="directory holding us-bankruptcy/ and kr-dart/ (default: ../shared/data)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "training.train", *(sys.argv[1:] if argv is None else argv)])
    try:
        us, kr = data.load_us(args.data_dir), data.load_kr(args.data_dir)
    except OSError as exc:
        print(f"train: cannot read the data: {exc}", file=sys.stderr)
        return 2
    run(Config(seed=args.seed), us, kr, args.out, args.report, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
