"""Recipes: how a model is made from labelled rows, in two stages the yardstick drives.

`select(fit, val)` chooses a recipe's settings (epochs, iterations, penalty) by fitting on
`fit` and scoring `val`; `fit(rows, settings)` refits on `rows` with them and returns a
scorer (frame -> risk score, higher is riskier). `usable(frame)` says which rows the recipe
can score. Every recipe here reads the same ratio columns of `training.data`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import QuantileTransformer

from soundness import transforms
from soundness.ratios import LEGACY_FEATURES, RATIOS

from .ensemble import average_networks
from .network import NeuralNet

Scorer = Callable[[pd.DataFrame], np.ndarray]
ALL_RATIOS: tuple[str, ...] = tuple(r.name for r in RATIOS)


# ---------------------------------------------------------------- encodings

Step = tuple[dict[str, Any], dict[str, np.ndarray]]  # a format-2 preprocessing step and its arrays


def fit_quantile_normal(x: np.ndarray, knots: int = 101) -> Step:
    """An `interpolate` step (soundness.transforms) mapping each column's training quantiles to
    the standard normal's quantiles at the same levels; NaN ignored in fitting, kept in use."""
    levels = np.linspace(0.0, 1.0, knots)
    # The outer levels map to the normal quantiles of 1/(2n) and 1 - 1/(2n), not to +-infinity.
    normal = np.array([NormalDist().inv_cdf(float(p)) for p in np.clip(levels, 0.5 / knots, 1 - 0.5 / knots)])
    all_knots, all_values = np.zeros((x.shape[1], knots)), np.zeros((x.shape[1], knots))
    for j, column in enumerate(x.T):
        defined = column[np.isfinite(column)]
        if not len(defined):
            continue
        # A mass of equal values (many zeros, say) gives repeated quantiles: one knot with
        # their mean score, so the map is a function; padded by repeating the last knot.
        values, group = np.unique(np.quantile(defined, levels), return_inverse=True)
        scores = np.bincount(group, normal) / np.bincount(group)
        all_knots[j] = np.pad(values, (0, knots - len(values)), mode="edge")
        all_values[j] = np.pad(scores, (0, knots - len(scores)), mode="edge")
    return {"kind": "interpolate", "fitted": "quantile_normal"}, {"knots": all_knots, "values": all_values}


# 0 is the median after the quantile-normal map; every feature gets an indicator, even one never
# unknown in training: the legacy five-ratio requests leave all the others unknown.
MISSING_STEP: Step = ({"kind": "missing_indicator", "fill": 0.0}, {})


@dataclass
class MissingAware:
    """The version-2 encoding: a quantile-normal `interpolate` step, then `missing_indicator`."""

    steps: list[Step]

    def __post_init__(self) -> None:
        self._transforms = [transforms.build(step, arrays) for step, arrays in self.steps]

    @classmethod
    def fit(cls, x: np.ndarray, knots: int) -> MissingAware:
        return cls([fit_quantile_normal(x, knots), MISSING_STEP])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for transform in self._transforms:
            x = transform(x)
        return x


@dataclass
class ClipQuantile:
    """Version 1's preprocessing: clip to train quantiles, scikit-learn's normal QuantileTransformer."""

    lower: np.ndarray
    upper: np.ndarray
    scaler: Any

    @classmethod
    def fit(cls, x: np.ndarray, clip: tuple[float, float] = (0.05, 0.95)) -> ClipQuantile:
        lower, upper = (np.quantile(x, q, axis=0) for q in clip)
        scaler = QuantileTransformer(n_quantiles=1000, output_distribution="normal", subsample=None)
        return cls(lower, upper, scaler.fit(np.clip(x, lower, upper)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.scaler.transform(np.clip(x, self.lower, self.upper))


# ---------------------------------------------------------------- the network


@dataclass(frozen=True)
class NetworkConfig:
    features: tuple[str, ...] = ALL_RATIOS
    complete_rows_only: bool = False  # version 1 refused a row with any feature undefined
    preprocessing: str = "missing_aware"  # or "clip_quantile" (version 1)
    knots: int = 101
    hidden: tuple[int, ...] = (32, 32, 16)
    dropout: float = 0.1
    negative_slope: float = 0.01
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 512
    max_epochs: int = 60
    patience: int = 15
    members: int = 5
    seed: int = 0
    # Distillation: the loss's weight on a gradient-boosted teacher's log-odds (0: labels only).
    distill: float = 0.0
    # Share of each batch's rows shown with every ratio but the legacy five unknown, so the
    # legacy five-ratio requests meet a network that has seen such inputs.
    five_only_fraction: float = 0.0

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _prepare(config: NetworkConfig, x: np.ndarray):
    if config.preprocessing == "clip_quantile":
        return ClipQuantile.fit(x)
    return MissingAware.fit(x, config.knots)


def _margins(network: NeuralNet, x: np.ndarray) -> np.ndarray:
    network.eval()
    with torch.inference_mode():
        logits = network(torch.from_numpy(np.asarray(x, np.float32)))
    return (logits[:, 1] - logits[:, 0]).double().numpy()


def train_network(
    x: np.ndarray,
    y: np.ndarray,
    config: NetworkConfig,
    seed: int,
    epochs: int | None = None,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    teacher: np.ndarray | None = None,
    five_only: np.ndarray | None = None,
) -> tuple[NeuralNet, int]:
    """Class-weighted training: with `val`, kept at its best validation ROC-AUC epoch (early
    stopping); without, run for `epochs`. `five_only` (the rows encoded with only the legacy service's
    five known) stands in for a `config.five_only_fraction` of each batch's rows.
    Returns the network and the epochs it trained."""
    torch.manual_seed(seed)
    network = NeuralNet(x.shape[1], list(config.hidden), 2, config.negative_slope, config.dropout)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    positive_rate = float(y.mean())
    weight = torch.tensor([1.0, (1 - positive_rate) / positive_rate])
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    inputs, targets = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64))
    soft = torch.from_numpy(teacher.astype(np.float32)) if teacher is not None else None
    masked = torch.from_numpy(five_only.astype(np.float32)) if five_only is not None else None
    order = np.random.default_rng(seed)
    best_state, best_auc, best_epoch = None, -1.0, 0
    for epoch in range(epochs if epochs is not None else config.max_epochs):
        network.train()
        permutation = torch.from_numpy(order.permutation(len(x)))
        for start in range(0, len(x) - 1, config.batch_size):
            batch = permutation[start : start + config.batch_size]
            optimiser.zero_grad()
            rows = inputs[batch]
            if masked is not None:
                swap = torch.from_numpy(order.random(len(batch)) < config.five_only_fraction)
                rows = torch.where(swap[:, None], masked[batch], rows)
            logits = network(rows)
            loss = loss_fn(logits, targets[batch])
            if soft is not None:
                # match the teacher's log-odds (shifted by the class weight's log) on every row
                margin = logits[:, 1] - logits[:, 0]
                loss = loss + config.distill * torch.mean((margin - soft[batch] - torch.log(weight[1])) ** 2)
            loss.backward()
            optimiser.step()
        if val is None:
            continue
        auc = float(roc_auc_score(val[1], _margins(network, val[0])))
        if auc > best_auc:
            best_auc, best_epoch = auc, epoch + 1
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        if epoch + 1 - best_epoch >= config.patience:
            break
    if val is not None:
        network.load_state_dict(best_state)
        return network.eval(), best_epoch
    return network.eval(), epochs


@dataclass
class FittedNetwork:
    """The encoding and one network (the members averaged into one): a scorer of frames."""

    features: list[str]
    prepare: Any
    network: NeuralNet
    epochs: list[int] = field(default_factory=list)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        return self.prepare(frame[self.features].to_numpy(float))

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        return _margins(self.network, self.encode(frame))


class NetworkRecipe:
    """`teacher`: distil from it (with `config.distill`); `teacher_folds` > 1 gives the student
    the teacher's out-of-fold log-odds (folds by company) instead of its in-sample ones."""

    def __init__(self, config: NetworkConfig, teacher: BoostingRecipe | None = None, teacher_folds: int = 0):
        if config.distill and teacher is None:
            raise ValueError("distill > 0 needs a teacher to distil from")
        self.config = config
        self.teacher = teacher
        self.teacher_folds = teacher_folds
        self.name = "network"
        # The same model scored on the legacy five alone, the others unknown (the legacy forms).
        self.variants = {"five_only": five_only} if not config.complete_rows_only else {}

    def key(self) -> str:
        folds = f"folds={self.teacher_folds}" if self.teacher_folds > 1 else ""
        return self.config.key() + (self.teacher.key() + folds if self.teacher else "")

    def usable(self, frame: pd.DataFrame) -> pd.Series:
        defined = frame[list(self.config.features)].notna()
        return defined.all(axis=1) if self.config.complete_rows_only else defined.any(axis=1)

    def _teacher_margins(self, rows: pd.DataFrame, settings: dict) -> np.ndarray | None:
        if self.teacher is None:
            return None
        if self.teacher_folds > 1:
            p = np.zeros(len(rows))
            for fit, held in GroupKFold(self.teacher_folds).split(rows, groups=rows["company"]):
                p[held] = self.teacher.fit(rows.iloc[fit], settings["teacher"])(rows.iloc[held])
        else:
            p = self.teacher.fit(rows, settings["teacher"])(rows)
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    def _members(
        self, rows: pd.DataFrame, epochs: list[int] | None, val: pd.DataFrame | None, teacher: np.ndarray | None
    ) -> FittedNetwork:
        config, features = self.config, list(self.config.features)
        x, y = rows[features].to_numpy(float), rows["label"].to_numpy()
        prepare = _prepare(config, x)
        encoded = prepare(x)
        five_only = None
        if config.five_only_fraction:
            others = [i for i, name in enumerate(features) if name not in LEGACY_FEATURES]
            hidden = x.copy()
            hidden[:, others] = np.nan
            five_only = prepare(hidden)
        validation = (prepare(val[features].to_numpy(float)), val["label"].to_numpy()) if val is not None else None
        networks, trained = [], []
        for i in range(config.members):
            network, n = train_network(
                encoded, y, config, config.seed * 100 + i, epochs[i] if epochs else None, validation, teacher, five_only
            )
            networks.append(network)
            trained.append(n)
        merged = average_networks(networks, config.negative_slope, config.dropout)
        return FittedNetwork(features, prepare, merged, trained)

    def select(self, fit: pd.DataFrame, val: pd.DataFrame) -> dict[str, Any]:
        fit, val = fit[self.usable(fit)], val[self.usable(val)]
        settings: dict[str, Any] = {}
        if self.teacher is not None:
            settings["teacher"] = self.teacher.select(fit, val)
        fitted = self._members(fit, None, val, self._teacher_margins(fit, settings))
        settings["epochs"] = fitted.epochs
        return settings

    def fit(self, rows: pd.DataFrame, settings: dict[str, Any]) -> FittedNetwork:
        rows = rows[self.usable(rows)]
        return self._members(rows, settings["epochs"], None, self._teacher_margins(rows, settings))

    def fit_validated(self, fit: pd.DataFrame, val: pd.DataFrame) -> FittedNetwork:
        """Fit on `fit`, each member kept at its best epoch on `val` (the fixed split's way)."""
        fit, val = fit[self.usable(fit)], val[self.usable(val)]
        settings = {"teacher": self.teacher.select(fit, val)} if self.teacher else {}
        return self._members(fit, None, val, self._teacher_margins(fit, settings))


def five_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as a legacy-era request gives them: the five ratios (all defined) and nothing else."""
    out = frame.copy()
    out[[name for name in ALL_RATIOS if name not in LEGACY_FEATURES]] = np.nan
    out.loc[~frame[list(LEGACY_FEATURES)].notna().all(axis=1), list(LEGACY_FEATURES)] = np.nan
    return out


def version1() -> NetworkRecipe:
    """Today's bundled recipe (training.train before version 2): the legacy five, complete rows,
    clip 5-95 % and a normal QuantileTransformer, five networks of [32, 32, 16] averaged."""
    recipe = NetworkRecipe(
        NetworkConfig(features=LEGACY_FEATURES, complete_rows_only=True, preprocessing="clip_quantile")
    )
    recipe.name = "version 1"
    return recipe


# ---------------------------------------------------------------- baselines on the same inputs


class BoostingRecipe:
    """scikit-learn's HistGradientBoosting on the raw ratios (it takes NaN as missing itself);
    the number of iterations and the learning rate chosen on the validation rows."""

    STAGES = (50, 100, 200, 300, 500)
    RATES = (0.03, 0.1)

    def __init__(self, features: tuple[str, ...] = ALL_RATIOS, seed: int = 0):
        self.features, self.seed, self.name = list(features), seed, "HistGradientBoosting"

    def key(self) -> str:
        return json.dumps({"hgb": self.features, "seed": self.seed, "stages": self.STAGES, "rates": self.RATES})

    def usable(self, frame: pd.DataFrame) -> pd.Series:
        return frame[self.features].notna().any(axis=1)

    def _model(self, rate: float, iterations: int) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            learning_rate=rate,
            max_iter=iterations,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.seed,
        )

    def select(self, fit: pd.DataFrame, val: pd.DataFrame) -> dict[str, Any]:
        x, y = fit[self.features].to_numpy(float), fit["label"].to_numpy()
        xv, yv = val[self.features].to_numpy(float), val["label"].to_numpy()
        best = (-1.0, None)
        for rate in self.RATES:
            model = self._model(rate, self.STAGES[0]).set_params(warm_start=True)
            for stages in self.STAGES:  # warm start: each stage adds trees to the last
                model.set_params(max_iter=stages).fit(x, y)
                auc = roc_auc_score(yv, model.predict_proba(xv)[:, 1])
                if auc > best[0]:
                    best = (auc, {"learning_rate": rate, "max_iter": stages})
        return best[1]

    def fit(self, rows: pd.DataFrame, settings: dict[str, Any]) -> Scorer:
        model = self._model(settings["learning_rate"], settings["max_iter"])
        model.fit(rows[self.features].to_numpy(float), rows["label"].to_numpy())
        return lambda frame: model.predict_proba(frame[self.features].to_numpy(float))[:, 1]


class LogisticRecipe:
    """Logistic regression on the network's encoding (quantile-normal, missing indicators);
    the L2 penalty chosen on the validation rows."""

    PENALTIES = (0.01, 0.1, 1.0, 10.0)

    def __init__(self, features: tuple[str, ...] = ALL_RATIOS, knots: int = 101):
        self.features, self.knots, self.name = list(features), knots, "logistic regression"

    def key(self) -> str:
        return json.dumps({"logistic": self.features, "knots": self.knots, "C": self.PENALTIES})

    def usable(self, frame: pd.DataFrame) -> pd.Series:
        return frame[self.features].notna().any(axis=1)

    def _fit(self, rows: pd.DataFrame, c: float) -> Scorer:
        x = rows[self.features].to_numpy(float)
        prepare = MissingAware.fit(x, self.knots)
        model = LogisticRegression(C=c, max_iter=2000).fit(prepare(x), rows["label"].to_numpy())
        return lambda frame: model.decision_function(prepare(frame[self.features].to_numpy(float)))

    def select(self, fit: pd.DataFrame, val: pd.DataFrame) -> dict[str, Any]:
        aucs = {c: roc_auc_score(val["label"], self._fit(fit, c)(val)) for c in self.PENALTIES}
        return {"C": max(aucs, key=aucs.get)}

    def fit(self, rows: pd.DataFrame, settings: dict[str, Any]) -> Scorer:
        return self._fit(rows, settings["C"])
