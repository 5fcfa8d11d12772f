"""Artifact directories: what is written, and everything loading refuses."""
import json
import os
import pickle

import joblib
import numpy as np
import pytest
import torch

from soundness import artifacts
from soundness.network import NeuralNet, spec_from_state_dict
from soundness.predictor import Predictor

from helpers import SEED_ARTIFACTS, need_shared, rehash, rewrite_manifest, write_small_artifact


# ---------------------------------------------------------------- what is written

def test_an_artifact_round_trips_and_predicts_the_same(small_model_dir):
    loaded = artifacts.load(small_model_dir)
    assert loaded.manifest["features"][0] == "revenue_growth_pct"
    again = artifacts.load(small_model_dir)
    x = np.random.default_rng(1).normal(size=(7, 5))
    assert np.array_equal(Predictor(loaded).probabilities(x), Predictor(again).probabilities(x))


def test_the_manifest_records_schema_classes_libraries_and_file_hashes(small_model_dir):
    manifest = json.loads((small_model_dir / "manifest.json").read_text())
    assert manifest["schema_version"] == artifacts.SCHEMA_VERSION
    assert manifest["classes"] == [{"label": 0, "name": "sound", "ko": "건전"},
                                   {"label": 1, "name": "unsound", "ko": "비건전"}]
    assert {"torch", "scikit-learn", "numpy", "python"} <= set(manifest["created"]["libraries"])
    for name in ("model.pt", "scaler.joblib"):
        assert manifest["files"][name] == artifacts.sha256_of(small_model_dir / name)


def test_the_network_keeps_the_seeds_parameter_names():
    names = set(NeuralNet(5, [8, 32, 518, 32, 16]).state_dict())
    assert {"input_layer.weight", "batchnorm.running_mean", "hidden_layer4.weight",
            "batchnorm4.num_batches_tracked", "output_layer.bias"} <= names


def test_the_seeds_gpu_saved_state_dict_loads_unchanged_and_gives_its_logits(seed_example):
    state = artifacts.load_weights(need_shared(SEED_ARTIFACTS) / "predict_model.pth")
    spec = spec_from_state_dict(state)
    assert spec["hidden"] == [8, 32, 518, 32, 16]
    network = artifacts.build_network(spec, state)
    scaler = artifacts.load_scaler(SEED_ARTIFACTS / "minmax_scaler.pkl")
    scaled = scaler.transform(np.array([seed_example["ratios"]]))
    with torch.inference_mode():
        logits = network(torch.tensor(scaled, dtype=torch.float32))[0].numpy()
    assert logits == pytest.approx([0.2170, -0.1045], abs=5e-4)


# ---------------------------------------------------------------- refusals

def test_a_missing_manifest_is_refused(tmp_path):
    with pytest.raises(artifacts.ArtifactError, match="no manifest.json"):
        artifacts.load(tmp_path)


@pytest.mark.parametrize("name", ["model.pt", "scaler.joblib"])
def test_a_file_changed_after_writing_is_refused_before_it_is_read(small_model_dir, name):
    with open(small_model_dir / name, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(artifacts.ArtifactError, match=f"{name} does not match its sha256"):
        artifacts.load(small_model_dir)


def test_a_missing_file_is_refused(small_model_dir):
    (small_model_dir / "model.pt").unlink()
    with pytest.raises(artifacts.ArtifactError, match="model.pt is missing"):
        artifacts.load(small_model_dir)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(schema_version=99), "schema_version"),
    (lambda m: m.update(features=[]), "features"),
    (lambda m: m["network"].update(input_size=4), "input_size"),
    (lambda m: m["decision"].update(threshold=1.5), "threshold"),
    (lambda m: m["preprocessing"]["clip"].update(lower=[0.0]), "clip"),
    (lambda m: m.update(calibration={"method": "isotonic"}), "calibration"),
])
def test_a_manifest_the_server_could_not_act_on_is_refused(small_model_dir, change, message):
    rewrite_manifest(small_model_dir, change)
    with pytest.raises(artifacts.ArtifactError, match=message):
        artifacts.load(small_model_dir)


def test_weights_of_another_shape_than_the_manifest_says_are_refused(small_model_dir):
    rewrite_manifest(small_model_dir, lambda m: m["network"].update(hidden=[4, 6]))
    with pytest.raises(artifacts.ArtifactError, match="does not fit the network"):
        artifacts.load(small_model_dir)


def test_truncated_weights_with_a_matching_hash_are_refused(small_model_dir):
    path = small_model_dir / "model.pt"
    path.write_bytes(path.read_bytes()[:100])
    rehash(small_model_dir)
    with pytest.raises(artifacts.ArtifactError, match="not a readable torch state_dict"):
        artifacts.load(small_model_dir)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_scaler_pickle_that_would_run_code_is_refused_without_running_it(small_model_dir, tmp_path):
    marker = tmp_path / "code-ran"
    joblib.dump(_RunsCode(marker), small_model_dir / "scaler.joblib")
    rehash(small_model_dir)
    with pytest.raises(artifacts.ArtifactError, match="references posix.system"):
        artifacts.load(small_model_dir)
    assert not marker.exists()


def test_an_object_array_inside_a_joblib_file_is_refused(small_model_dir, tmp_path):
    marker = tmp_path / "code-ran"
    scaler = joblib.load(small_model_dir / "scaler.joblib")
    scaler.scale_ = np.array([_RunsCode(marker)], dtype=object)  # joblib would plain-pickle this
    joblib.dump(scaler, small_model_dir / "scaler.joblib")
    rehash(small_model_dir)
    with pytest.raises(artifacts.ArtifactError, match="object array"):
        artifacts.load(small_model_dir)
    assert not marker.exists()


def test_a_plain_pickle_of_something_else_is_refused(small_model_dir):
    (small_model_dir / "scaler.joblib").write_bytes(pickle.dumps({"not": "a scaler"}))
    rehash(small_model_dir)
    with pytest.raises(artifacts.ArtifactError, match="does not hold a fitted scaler"):
        artifacts.load(small_model_dir)


def test_a_scaler_fitted_on_other_features_is_refused(tmp_path):
    from sklearn.preprocessing import MinMaxScaler

    directory = write_small_artifact(tmp_path / "a")
    joblib.dump(MinMaxScaler().fit(np.zeros((3, 4))), directory / "scaler.joblib")
    rehash(directory)
    with pytest.raises(artifacts.ArtifactError, match="fitted on 4 features"):
        artifacts.load(directory)
