"""Artifact directories, format 2: what is written, and everything loading refuses."""

import json
import shutil
import struct

import numpy as np
import pytest
import safetensors.torch
from safetensors.numpy import save_file

from helpers import DEFAULT_MODEL, rehash, rewrite_manifest, small_model
from soundness import artifacts
from soundness.predictor import Predictor
from training.network import NeuralNet, network_state


def rewrite_tensors(directory, change) -> None:
    """Apply change(tensors) to model.safetensors and make the manifest vouch for the result."""
    path = directory / artifacts.TENSORS
    tensors = dict(safetensors.numpy.load_file(path))
    change(tensors)
    save_file(tensors, path)
    rehash(directory)


# ---------------------------------------------------------------- what is written


def test_an_artifact_round_trips_and_predicts_the_same(small_model_dir):
    loaded = artifacts.load(small_model_dir)
    assert loaded.manifest["features"][0] == "revenue_growth_pct"
    again = artifacts.load(small_model_dir)
    x = np.random.default_rng(1).normal(size=(7, 5))
    assert np.array_equal(Predictor(loaded).probabilities(x), Predictor(again).probabilities(x))


def test_the_manifest_records_format_classes_steps_libraries_and_the_tensors_hash(small_model_dir):
    manifest = json.loads((small_model_dir / "manifest.json").read_text())
    assert manifest["format_version"] == artifacts.FORMAT_VERSION == 2
    assert manifest["classes"] == [
        {"label": 0, "name": "sound", "ko": "건전"},
        {"label": 1, "name": "unsound", "ko": "비건전"},
    ]
    assert manifest["preprocessing"] == [{"kind": "clip"}, {"kind": "minmax", "bounds": None}]
    assert {"torch", "scikit-learn", "numpy", "safetensors", "python"} <= set(manifest["created"]["libraries"])
    assert manifest["files"] == {"model.safetensors": artifacts.sha256_of(small_model_dir / "model.safetensors")}
    assert sorted(p.name for p in small_model_dir.iterdir()) == ["manifest.json", "model.safetensors"]


def test_there_is_no_pickle_in_an_artifact(small_model_dir):
    for path in small_model_dir.iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\x80") and b"PK\x03\x04" not in data[:4]  # neither pickle nor torch zip


def test_the_tensors_keep_their_state_dict_names_and_load_into_the_torch_network(small_model_dir):
    tensors = safetensors.torch.load_file(small_model_dir / "model.safetensors")
    assert {"preprocessing.0.lower", "preprocessing.0.upper", "preprocessing.1.scale", "preprocessing.1.offset"} <= set(
        tensors
    )
    network = NeuralNet(5, [4, 3])
    network.load_state_dict(network_state(tensors), strict=True)
    assert {"input_layer.weight", "batchnorm.running_var", "hidden_layer1.weight", "output_layer.bias"} <= set(
        network.state_dict()
    )


def test_the_bundled_model_is_format_2():
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    assert [step["kind"] for step in manifest["preprocessing"]] == ["interpolate", "missing_indicator"]
    assert manifest["network"]["input_size"] == 2 * len(manifest["features"])  # each ratio and its indicator
    assert manifest["explanation"]["background_rows"] > 0
    assert manifest["created"]["agreement"]["max_abs_difference"] <= 1e-6


# ---------------------------------------------------------------- refusals


def test_a_missing_manifest_is_refused(tmp_path):
    with pytest.raises(artifacts.ArtifactError, match=r"no manifest.json"):
        artifacts.load(tmp_path)


def test_a_changed_tensors_file_is_refused_before_it_is_read(small_model_dir, monkeypatch):
    with open(small_model_dir / "model.safetensors", "ab") as handle:
        handle.write(b"\0")
    monkeypatch.setattr(artifacts, "read_tensors", lambda path: pytest.fail("read before its hash was checked"))
    with pytest.raises(artifacts.ArtifactError, match=r"model.safetensors does not match its sha256"):
        artifacts.load(small_model_dir)


def test_a_missing_tensors_file_is_refused(small_model_dir):
    (small_model_dir / "model.safetensors").unlink()
    with pytest.raises(artifacts.ArtifactError, match=r"model.safetensors is missing"):
        artifacts.load(small_model_dir)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format_version=99), "artifact format 99 is not one this server reads"),
        (lambda m: m.pop("format_version"), "artifact format None"),
        (lambda m: m.update(features=[]), "features"),
        (lambda m: m["network"].update(input_size=4), "input_size"),
        (lambda m: m["network"].update(architecture="Transformer"), "architecture"),
        (lambda m: m["decision"].update(threshold=1.5), "threshold"),
        (lambda m: m.update(preprocessing={"clip": None}), "preprocessing must be a list"),
        (lambda m: m["preprocessing"].append({"kind": "pickle"}), "step 2 must be an object whose kind is one of"),
        (lambda m: m["preprocessing"][1].update(bounds=[1, 0]), r"step 1 \(minmax\): bounds"),
        (lambda m: m.update(calibration={"method": "isotonic"}), "calibration"),
        (lambda m: m.update(files={"model.safetensors": "0", "model.pt": "0"}), "of nothing else"),
    ],
)
def test_a_manifest_the_server_could_not_act_on_is_refused(small_model_dir, change, message):
    rewrite_manifest(small_model_dir, change)
    with pytest.raises(artifacts.ArtifactError, match=message):
        artifacts.load(small_model_dir)


def test_a_format_1_manifest_is_refused_with_how_to_convert_it(small_model_dir):
    rewrite_manifest(small_model_dir, lambda m: (m.pop("format_version"), m.update(schema_version=1)))
    with pytest.raises(artifacts.ArtifactError, match=r"format 1 .* `python -m training.import_legacy --artifact"):
        artifacts.load(small_model_dir)


def test_weights_of_another_shape_than_the_manifest_says_are_refused(small_model_dir):
    rewrite_manifest(small_model_dir, lambda m: m["network"].update(hidden=[4, 6]))
    with pytest.raises(
        artifacts.ArtifactError, match=r"hidden_layer1.weight has shape \(3, 4\), the manifest implies \(6, 4\)"
    ):
        artifacts.load(small_model_dir)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.pop("batchnorm1.running_var"), "it lacks batchnorm1.running_var"),
        (lambda t: t.pop("preprocessing.0.upper"), "it lacks preprocessing.0.upper"),
        (lambda t: t.update(extra=np.zeros(2, np.float32)), "it holds extra, which the manifest does not describe"),
        (lambda t: t.update({"preprocessing.1.scale": np.ones(4)}), r"preprocessing.1.scale has shape \(4,\)"),
        (lambda t: t.update({"input_layer.bias": np.full(4, np.nan, np.float32)}), "input_layer.bias must hold finite"),
        (
            lambda t: t.update({"output_layer.bias": np.zeros(2, np.int64)}),
            "output_layer.bias must hold finite floating",
        ),
    ],
)
def test_tensors_that_do_not_fit_the_manifest_are_refused(small_model_dir, change, message):
    rewrite_tensors(small_model_dir, change)
    with pytest.raises(artifacts.ArtifactError, match=message):
        artifacts.load(small_model_dir)


def test_a_preprocessing_step_with_unusable_arrays_is_refused(small_model_dir):
    rewrite_tensors(small_model_dir, lambda t: t.update({"preprocessing.0.lower": np.full(5, 99.0)}))
    with pytest.raises(artifacts.ArtifactError, match=r"preprocessing step 0 \(clip\) has a lower bound above"):
        Predictor(artifacts.load(small_model_dir))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:100],  # cut short
        lambda data: struct.pack("<Q", 1 << 40) + data[8:],  # a header claiming a terabyte
        lambda data: b"not a safetensors file at all",
    ],
)
def test_an_unreadable_tensors_file_with_a_matching_hash_is_refused(small_model_dir, damage):
    path = small_model_dir / "model.safetensors"
    path.write_bytes(damage(path.read_bytes()))
    rehash(small_model_dir)
    with pytest.raises(artifacts.ArtifactError, match=r"model.safetensors is not a readable safetensors file"):
        artifacts.load(small_model_dir)


def test_writing_refuses_what_loading_would_refuse(tmp_path):

    from training import export

    model, manifest = small_model()
    manifest["network"]["hidden"] = [4, 4]  # the network has [4, 3]
    with pytest.raises(artifacts.ArtifactError, match="does not fit"):
        export.write(tmp_path / "out", model, manifest, np.zeros((2, 5)))
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the explanation background's weights


@pytest.fixture
def bundled_copy(tmp_path):
    directory = tmp_path / "bundled"
    shutil.copytree(DEFAULT_MODEL, directory)
    return directory


def set_weights(weights):
    return lambda tensors: tensors.update({artifacts.BACKGROUND_WEIGHTS: np.asarray(weights, np.float64)})


def test_the_bundled_model_weights_its_background_rows_as_shares(bundled_copy):
    weights = artifacts.load(bundled_copy).tensors[artifacts.BACKGROUND_WEIGHTS]
    assert weights.shape == (
        json.loads((bundled_copy / "manifest.json").read_text())["explanation"]["background_rows"],
    )
    assert (weights > 0).all() and abs(weights.sum() - 1) <= 1e-9


@pytest.mark.parametrize(
    "weights, message",
    [
        (lambda rows: np.r_[-0.5, np.full(rows - 1, 1.5 / (rows - 1))], "none negative, summing to 1"),
        (lambda rows: np.full(rows, 1 / (rows + 1)), r"summing to 1 within 1e-09 \(they sum to 0.9"),
        (
            lambda rows: np.full(rows + 1, 1 / (rows + 1)),
            r"explanation.background_weights has shape \(\d+,\), the manifest implies",
        ),
        (lambda rows: np.full((rows, 1), 1 / rows), r"explanation.background_weights has shape \(\d+, 1\)"),
    ],
)
def test_background_weights_that_are_not_shares_of_the_background_rows_are_refused(bundled_copy, weights, message):
    rows = json.loads((bundled_copy / "manifest.json").read_text())["explanation"]["background_rows"]
    rewrite_tensors(bundled_copy, set_weights(weights(rows)))
    with pytest.raises(artifacts.ArtifactError, match=message):
        artifacts.load(bundled_copy)


def test_an_artifact_without_background_weights_weighs_its_background_rows_equally(bundled_copy, tmp_path):
    rewrite_tensors(bundled_copy, lambda tensors: tensors.pop(artifacts.BACKGROUND_WEIGHTS))
    equal = tmp_path / "equal"
    shutil.copytree(bundled_copy, equal)
    rows = len(artifacts.load(bundled_copy).tensors[artifacts.BACKGROUND])
    rewrite_tensors(equal, set_weights(np.full(rows, 1 / rows)))
    x = np.random.default_rng(2).normal(size=(9, 16)) * 20
    unweighted, weighted = Predictor(artifacts.load(bundled_copy)), Predictor(artifacts.load(equal))
    assert unweighted.baseline == pytest.approx(weighted.baseline, abs=1e-12)
    np.testing.assert_allclose(unweighted.explain(x)[1], weighted.explain(x)[1], rtol=0, atol=1e-12)
