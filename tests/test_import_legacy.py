"""Importing models users already have: the legacy service's .pth + joblib scaler, and format-1 artifact
directories, become format-2 artifacts that give torch's answers."""

import json

import numpy as np
import pytest
import torch

from helpers import LEGACY_ARTIFACTS, need_shared, small_model, write_format_1
from soundness import artifacts
from soundness.predictor import Predictor
from soundness.ratios import LEGACY_FEATURES
from training import export, legacy
from training.import_legacy import import_legacy, main

EIGHT = "a1,a2,a3,a4,a5,a6,a7,a8"


def test_the_imported_legacy_model_answers_the_legacy_example_as_the_legacy_service_did(
    legacy_model_dir, legacy_example
):
    artifact = artifacts.load(legacy_model_dir)
    x = np.array([legacy_example["ratios"]])
    model = export.model_from_artifact(artifact)
    with torch.inference_mode():
        logits = model.network(torch.tensor(model.scaler.transform(x), dtype=torch.float32))[0].numpy()
    assert logits == pytest.approx([0.2170, -0.1045], abs=5e-4)
    predictor = Predictor(artifact)
    probability = predictor.probabilities(x)
    assert probability[0] == pytest.approx(0.420, abs=5e-4)
    assert predictor.labels(probability).tolist() == [0]


def test_an_import_records_that_it_was_held_to_torch_on_the_legacy_example_and_2000_rows(legacy_model_dir):
    agreement = json.loads((legacy_model_dir / "manifest.json").read_text())["created"]["agreement"]
    assert agreement["rows"] == 2000 + 4 + 1  # random rows, the fitted range's ends, zeros, the legacy example
    assert agreement["max_abs_difference"] <= 1e-6


def test_an_imported_model_warns_of_a_value_beyond_the_range_its_scaler_was_fitted_on(
    make_client, legacy_model_dir, legacy_example
):
    scaler = legacy.load_scaler(LEGACY_ARTIFACTS / "minmax_scaler.pkl")
    client = make_client(MODEL_DIR=legacy_model_dir)
    seen = client.post("/predict", json={"data": [legacy_example["ratios"]]}).json()["predictions"][0]
    assert seen["warnings"] == []  # the legacy example lies inside the scaler's fitted range
    beyond = [scaler.data_max_[0] * 10 + 1, *legacy_example["ratios"][1:]]
    [warning] = client.post("/predict", json={"data": [beyond]}).json()["predictions"][0]["warnings"]
    assert warning["code"] == "outside_training_range" and warning["fields"] == [LEGACY_FEATURES[0]]
    assert (
        warning["range"] == [scaler.data_min_[0], scaler.data_max_[0]] and "100% of the training" in warning["message"]
    )


def test_a_format_1_directory_converts_to_format_2_with_the_same_answers(tmp_path, capsys):
    model, manifest = small_model(hidden=(6, 5, 4), seed=2)
    old = write_format_1(tmp_path / "old", model, manifest)
    assert main(["--artifact", str(old), "--out", str(tmp_path / "new")]) == 0
    artifact = artifacts.load(tmp_path / "new")
    assert artifact.manifest["format_version"] == 2 and "schema_version" not in artifact.manifest
    assert artifact.manifest["created"]["converted"]["from_format"] == 1
    assert artifact.manifest["calibration"] == {"method": "platt", "a": 1.5, "b": -2.0}
    model.calibration = artifact.manifest["calibration"]
    x = export.check_rows(model, manifest["features"], seed=9)
    assert export.max_difference(Predictor(artifact).probabilities(x), export.reference_probabilities(model, x)) <= 1e-6


def test_a_tampered_format_1_directory_is_not_converted(tmp_path, capsys):
    model, manifest = small_model()
    old = write_format_1(tmp_path / "old", model, manifest)
    with open(old / "scaler.joblib", "ab") as handle:
        handle.write(b"\0")
    assert main(["--artifact", str(old), "--out", str(tmp_path / "new")]) == 2
    assert "scaler.joblib is missing or does not match its sha256" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_an_import_infers_widths_defaults_to_the_legacy_features_and_keeps_argmax(legacy_model_dir):
    manifest = json.loads((legacy_model_dir / "manifest.json").read_text())
    assert manifest["network"]["hidden"] == [8, 32, 518, 32, 16]
    assert manifest["features"] == list(LEGACY_FEATURES)
    assert manifest["decision"]["threshold"] == 0.5
    assert manifest["created"]["source_files"]["weights"]["name"] == "predict_model.pth"


def test_the_eight_ratio_variant_imports_given_eight_feature_names(tmp_path):
    need_shared(LEGACY_ARTIFACTS)
    out = import_legacy(
        LEGACY_ARTIFACTS / "predict_model_feature8.pth",
        LEGACY_ARTIFACTS / "minmax_scaler_feature8.pkl",
        tmp_path / "eight",
        features=EIGHT.split(","),
    )
    loaded = artifacts.load(out)
    assert loaded.manifest["network"]["hidden"] == [8, 32, 256, 128, 64, 16]
    assert loaded.manifest["features"] == EIGHT.split(",")


def test_an_import_with_the_wrong_number_of_feature_names_is_refused_clearly(tmp_path, capsys):
    need_shared(LEGACY_ARTIFACTS)
    code = main(
        [
            "--weights",
            str(LEGACY_ARTIFACTS / "predict_model_feature8.pth"),
            "--scaler",
            str(LEGACY_ARTIFACTS / "minmax_scaler_feature8.pkl"),
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    assert "takes 8 inputs but 5 feature names" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_scaler_that_does_not_match_the_network_is_refused(tmp_path):
    need_shared(LEGACY_ARTIFACTS)
    with pytest.raises(artifacts.ArtifactError, match="scaler was fitted on 5 features"):
        import_legacy(
            LEGACY_ARTIFACTS / "predict_model_feature8.pth",
            LEGACY_ARTIFACTS / "minmax_scaler.pkl",
            tmp_path / "x",
            features=EIGHT.split(","),
        )


def test_a_state_dict_of_another_architecture_is_refused(tmp_path):
    need_shared(LEGACY_ARTIFACTS)
    torch.save({"fc.weight": torch.zeros(2, 5)}, tmp_path / "other.pth")
    with pytest.raises(artifacts.ArtifactError, match="not a NeuralNet state_dict"):
        import_legacy(tmp_path / "other.pth", LEGACY_ARTIFACTS / "minmax_scaler.pkl", tmp_path / "x")


def test_the_command_line_writes_a_loadable_artifact_with_a_chosen_threshold(tmp_path, capsys):
    need_shared(LEGACY_ARTIFACTS)
    code = main(
        [
            "--weights",
            str(LEGACY_ARTIFACTS / "predict_model.pth"),
            "--scaler",
            str(LEGACY_ARTIFACTS / "minmax_scaler.pkl"),
            "--out",
            str(tmp_path / "cli"),
            "--threshold",
            "0.3",
            "--name",
            "legacy",
            "--version",
            "2021",
        ]
    )
    assert code == 0 and "wrote" in capsys.readouterr().out
    manifest = artifacts.load(tmp_path / "cli").manifest
    assert manifest["decision"]["threshold"] == 0.3
    assert manifest["model"] == {**manifest["model"], "name": "legacy", "version": "2021"}
