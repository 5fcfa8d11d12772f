"""Training end to end on a slice of the real data: a loadable, servable, reproducible artifact.

A small network for a few epochs on a quarter of the US companies keeps this to seconds; the
figures it reaches are not checked here (training/report/ holds the full run's).
"""
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from helpers import SHARED, need_shared
from soundness import artifacts
from soundness.predictor import Predictor
from training import data, train
from training.ensemble import average_networks
from training.network import NeuralNet

SMALL = train.Config(hidden=(8, 8), members=2, max_epochs=3, patience=3, n_quantiles=100)
MANIFEST_SECTIONS = ("model", "created", "features", "network", "preprocessing", "decision", "calibration",
                     "metrics", "training_data", "feature_quantiles", "limits", "files", "classes")


@pytest.fixture(scope="module")
def tables():
    need_shared(SHARED / "data" / data.US_FILE)
    need_shared(SHARED / "data" / data.KR_FILE)
    us, kr = data.load_us(SHARED / "data"), data.load_kr(SHARED / "data")
    companies = sorted(us.frame["company"].unique())[::4]
    return replace(us, frame=us.frame[us.frame["company"].isin(companies)]), kr


def train_small(tables, directory, config=SMALL, report_dir=None):
    return train.run(config, *tables, directory, report_dir, "test", log=lambda _: None)


@pytest.fixture(scope="module")
def trained(tables, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    manifest = train_small(tables, root / "model", report_dir=root / "report")
    return root, manifest


@pytest.mark.data
def test_training_writes_an_artifact_that_loads_and_predicts_probabilities(trained):
    root, _ = trained
    predictor = Predictor(artifacts.load(root / "model"))
    p = predictor.probabilities(np.array([[49.9, 34.3, 5.83, 32.0, 1.30], [-60.0, -40.0, -80.0, -20.0, 0.1]]))
    assert p.shape == (2,) and np.all((p > 0) & (p < 1))


@pytest.mark.data
def test_the_manifest_has_every_section_the_service_and_page_read(trained):
    root, manifest = trained
    assert all(section in artifacts.load(root / "model").manifest for section in MANIFEST_SECTIONS)
    assert {"validation", "test", "baselines", "kr_dart"} <= set(manifest["metrics"])
    assert set(manifest["feature_quantiles"]) == set(manifest["features"])
    assert manifest["calibration"]["method"] == "platt"
    assert manifest["training_data"]["sha256"] == artifacts.sha256_of(SHARED / "data" / data.US_FILE)


@pytest.mark.data
def test_the_default_features_are_the_seeds_five_in_the_seeds_order(trained):
    from soundness.ratios import SEED_FEATURES

    assert trained[1]["features"] == list(SEED_FEATURES)


@pytest.mark.data
def test_clip_bounds_are_train_quantiles_in_feature_order(trained, tables):
    _, manifest = trained
    train_rows = tables[0].split("train").dropna(subset=manifest["features"])
    expected = np.quantile(train_rows[manifest["features"]].to_numpy(float), SMALL.clip_quantiles[0], axis=0)
    assert manifest["preprocessing"][0] == {"kind": "clip"}
    np.testing.assert_allclose(artifacts.load(trained[0] / "model").tensors["preprocessing.0.lower"], expected)


@pytest.mark.data
def test_kr_dart_is_reported_with_its_count_of_positives(trained):
    kr = trained[1]["metrics"]["kr_dart"]
    assert kr["positives"] > 0 and kr["rows"] > kr["positives"] and 0 <= kr["roc_auc"] <= 1


@pytest.mark.data
def test_training_writes_the_report_and_its_figure(trained):
    root, _ = trained
    assert "kr-dart ROC-AUC" in (root / "report" / "report.md").read_text()
    assert (root / "report" / "report.png").read_bytes().startswith(b"\x89PNG")


def weights(directory):
    return load_file(directory / artifacts.TENSORS)


@pytest.mark.data
def test_the_same_seed_gives_identical_weights_and_metrics(tables, trained, tmp_path):
    root, manifest = trained
    again = train_small(tables, tmp_path / "again")
    first, second = weights(root / "model"), weights(tmp_path / "again")
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert again["metrics"] == manifest["metrics"]


@pytest.mark.data
def test_another_seed_gives_other_weights(tables, trained, tmp_path):
    root, _ = trained
    train_small(tables, tmp_path / "other", replace(SMALL, seed=1))
    first, other = weights(root / "model"), weights(tmp_path / "other")
    assert not torch.equal(first["input_layer.weight"], other["input_layer.weight"])


def test_averaged_networks_give_the_mean_of_the_members_logits():
    torch.manual_seed(0)
    members = []
    for _ in range(3):
        network = NeuralNet(5, [6, 4, 3], 2, 0.01, 0.1).train()
        network(torch.randn(64, 5) * 3 + 1)  # moves BatchNorm's running statistics off their defaults
        members.append(network.eval())
    merged = average_networks(members, 0.01, 0.1)
    x = torch.randn(50, 5)
    with torch.no_grad():
        expected = torch.stack([m(x) for m in members]).mean(0)
        assert torch.allclose(merged(x), expected, atol=1e-6)


def test_the_f1_threshold_is_the_probability_that_best_separates_a_clear_case():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0.01, 0.02, 0.03, 0.2, 0.3, 0.4])
    assert train.max_f1_threshold(p, y) == pytest.approx(0.3)


def test_platt_calibration_recovers_a_known_logistic_link():
    rng = np.random.default_rng(0)
    margin = rng.normal(size=20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(2.0 * margin - 3.0)))).astype(int)
    fit = train.fit_platt(margin, y)
    assert fit["a"] == pytest.approx(2.0, abs=0.15) and fit["b"] == pytest.approx(-3.0, abs=0.15)
