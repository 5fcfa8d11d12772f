"""The served numpy predictor gives torch's answers, and the request path needs nothing but numpy.

The reference (training.export.reference_probabilities) is the textbook path: clip, scikit-learn's
transform, torch's eval-mode NeuralNet in float32, the calibration. The predictor folds BatchNorm
and runs in numpy; these tests hold it to the reference within 1e-6 for every scaler kind, random
depths and widths, both legacy models and, on the real data, every US test row of the bundled model.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
import torch
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from torch import nn

from helpers import DEFAULT_MODEL, LEGACY_ARTIFACTS, ROOT, SHARED, need_shared, small_model
from soundness import artifacts, transforms
from soundness.predictor import Predictor
from training import data, export
from training.import_legacy import import_legacy

TOLERANCE = export.AGREEMENT  # 1e-6
SCALERS = {
    "minmax": MinMaxScaler,
    "minmax-clipped": lambda: MinMaxScaler(clip=True),
    "standard": StandardScaler,
    "standard-without-mean": lambda: StandardScaler(with_mean=False),
    "robust": RobustScaler,
    "robust-without-scaling": lambda: RobustScaler(with_scaling=False),
    "maxabs": MaxAbsScaler,
    "maxabs-clipped": lambda: MaxAbsScaler(clip=True),
    "quantile": lambda: QuantileTransformer(n_quantiles=20),
    "quantile-normal": lambda: QuantileTransformer(n_quantiles=20, output_distribution="normal"),
}
# Rows far outside the training range overflow float32 or exp on both paths alike; numpy says so.
overflow_is_expected = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def edge_rows(width: int, bound: float) -> np.ndarray:
    """Zeros, the clip bounds, beyond them, huge and tiny magnitudes, and a mixed row."""
    values = np.array([0.0, bound, -bound, bound * 1.5, -bound * 1.5, 1e6, -1e6, 1e-300, -1e-300])
    mixed = np.resize([1e6, -1e6, 0.0, bound, -3.5], width)
    return np.vstack([np.repeat(values[:, np.newaxis], width, axis=1), mixed])


def randomise_batchnorm(network: nn.Module, seed: int) -> None:
    """Fresh BatchNorm statistics are the identity; trained-looking ones catch misplaced arguments."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, nn.BatchNorm1d):
                size = module.num_features
                module.running_mean.copy_(torch.randn(size, generator=generator))
                module.running_var.copy_(torch.rand(size, generator=generator) * 3 + 0.1)
                module.weight.copy_(torch.randn(size, generator=generator))
                module.bias.copy_(torch.randn(size, generator=generator))


def assert_agrees(predictor: Predictor, model: export.Model, x: np.ndarray) -> None:
    reference = export.reference_probabilities(model, x)
    assert export.max_difference(predictor.probabilities(x), reference) <= TOLERANCE
    for i in range(min(len(x), 12)):  # one row at a time takes other code paths (scalar ndtri)
        assert export.max_difference(predictor.probabilities(x[i : i + 1]), reference[i : i + 1]) <= TOLERANCE


def served(model: export.Model, manifest: dict) -> Predictor:
    return Predictor(export.artifact(model, manifest))


# ---------------------------------------------------------------- agreement with torch


@overflow_is_expected
@pytest.mark.parametrize("kind", SCALERS)
def test_the_predictor_gives_torchs_probabilities_for_each_kind_of_scaler(kind):
    model, manifest = small_model(hidden=(16, 32, 8), scaler=SCALERS[kind](), seed=3)
    randomise_batchnorm(model.network, seed=3)
    predictor = served(model, manifest)
    assert_agrees(predictor, model, np.random.default_rng(3).normal(size=(500, 5)) * 30)  # some beyond ±50
    assert_agrees(predictor, model, edge_rows(5, bound=50.0))


@overflow_is_expected
@pytest.mark.parametrize("seed", range(8))
def test_the_predictor_gives_torchs_probabilities_for_random_depths_widths_and_calibrations(seed):
    rng = np.random.default_rng(seed)
    hidden = tuple(int(w) for w in rng.integers(1, 64, size=rng.integers(1, 6)))
    width = int(rng.integers(1, 10))
    scaler = list(SCALERS.values())[seed % len(SCALERS)]()
    model, manifest = small_model(
        hidden, scaler, seed, clip=None if seed % 2 else 40.0, features=[f"f{i}" for i in range(width)]
    )
    randomise_batchnorm(model.network, seed)
    model.calibration = {"method": "platt", "a": float(rng.uniform(0.5, 2)), "b": float(rng.normal())}
    predictor = served(model, manifest)
    assert_agrees(predictor, model, export.check_rows(model, manifest["features"], count=1000, seed=seed))
    assert_agrees(predictor, model, edge_rows(width, bound=40.0))


@overflow_is_expected
def test_the_legacy_model_gives_torchs_probabilities_and_the_legacy_examples_answer(legacy_model_dir, legacy_example):
    artifact = artifacts.load(legacy_model_dir)
    predictor, model = Predictor(artifact), export.model_from_artifact(artifact)
    rng = np.random.default_rng(5)
    # Growth -100..900 %, margins -100..60 %, equity ratio -50..100 %, turnover 0..5: real statements' range.
    low, high = np.array([-100, -100, -100, -50, 0]), np.array([900, 900, 60, 100, 5])
    assert_agrees(predictor, model, rng.uniform(low, high, size=(2000, 5)))
    assert_agrees(predictor, model, edge_rows(5, bound=1000.0))
    probability = predictor.probabilities(np.array([legacy_example["ratios"]]))
    assert probability[0] == pytest.approx(0.420, abs=5e-4)  # softmax of the legacy service's logits [0.2170, -0.1045]
    assert predictor.labels(probability).tolist() == [0]


def test_the_eight_ratio_legacy_model_gives_torchs_probabilities(tmp_path):
    need_shared(LEGACY_ARTIFACTS)
    out = import_legacy(
        LEGACY_ARTIFACTS / "predict_model_feature8.pth",
        LEGACY_ARTIFACTS / "minmax_scaler_feature8.pkl",
        tmp_path / "eight",
        features=[f"a{i}" for i in range(1, 9)],
    )
    artifact = artifacts.load(out)
    model = export.model_from_artifact(artifact)
    assert_agrees(Predictor(artifact), model, export.check_rows(model, artifact.manifest["features"], seed=8))


@pytest.mark.data
def test_the_bundled_model_gives_torchs_probabilities_on_every_us_test_row():
    table = data.load_us(need_shared(SHARED / "data"))
    artifact = artifacts.load(DEFAULT_MODEL)
    features = artifact.manifest["features"]
    test = table.split("test")[features]
    rows = test[test.notna().any(axis=1)].to_numpy(float)  # it takes unknown ratios: every row with any
    assert len(rows) == artifact.manifest["metrics"]["fixed_split"]["test"]["ours"]["rows"]
    model = export.model_from_artifact(artifact)
    difference = export.max_difference(
        Predictor(artifact).probabilities(rows), export.reference_probabilities(model, rows)
    )
    assert difference <= TOLERANCE


def test_not_a_number_goes_through_as_not_a_number_without_an_error():
    model, manifest = small_model(scaler=QuantileTransformer(n_quantiles=20, output_distribution="normal"))
    x = np.array([[np.nan, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    with np.errstate(all="raise"):
        probabilities = served(model, manifest).probabilities(x)
    assert np.isnan(probabilities[0]) and np.isfinite(probabilities[1])


def test_log_odds_beyond_any_float_exponent_give_probabilities_at_their_limits_without_an_error(monkeypatch):
    from soundness import predictor

    predictor_ = Predictor(artifacts.load(DEFAULT_MODEL))
    monkeypatch.setattr(Predictor, "scores", lambda self, x: np.array([-1e4, -40.0, 40.0, 1e4]))
    with np.errstate(over="raise"):  # overflow warns (NumPy's default); exp's underflow to 0 is exact enough
        probabilities = predictor_.probabilities(np.zeros((4, len(predictor_.features))))
    assert 0 <= probabilities[0] < 1e-300 and probabilities[1] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert probabilities[2] == probabilities[3] == 1.0 and np.log(np.finfo(float).max) > predictor.EXP_LIMIT


def test_a_scaler_that_cannot_be_served_is_refused_by_name():
    model, manifest = small_model(scaler=PowerTransformer())
    with pytest.raises(artifacts.ArtifactError, match="a PowerTransformer cannot be served"):
        export.artifact(model, manifest)


def test_an_artifact_whose_numpy_answers_differ_from_torchs_is_not_written(tmp_path, monkeypatch):
    model, manifest = small_model()
    monkeypatch.setattr(Predictor, "probabilities", lambda self, x: np.full(len(x), 0.5))
    with pytest.raises(artifacts.ArtifactError, match="differs from torch's forward by up to"):
        export.write(tmp_path / "out", model, manifest, export.check_rows(model, manifest["features"]))
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the steps' arithmetic


@pytest.mark.parametrize("kind", SCALERS)
def test_each_scaler_step_computes_what_scikit_learn_computes(kind):
    rng = np.random.default_rng(7)
    fitted_on = rng.normal(size=(300, 5)) * 30
    fitted_on[:, 2] = np.round(fitted_on[:, 2] / 10)  # repeated values: repeated quantiles
    scaler = SCALERS[kind]().fit(fitted_on)
    lowest, highest = fitted_on.min(axis=0), fitted_on.max(axis=0)
    near_the_ends = [lowest, highest, lowest + 5e-8, highest - 5e-8]  # within QuantileTransformer's 1e-7
    x = np.vstack([rng.normal(size=(200, 5)) * 40, *near_the_ends, np.full(5, np.nan), edge_rows(5, bound=100.0)])
    step, arrays = export.scaler_step(scaler)
    transform = transforms.build(step, arrays)
    np.testing.assert_allclose(transform(x.copy()), scaler.transform(x), rtol=1e-14, atol=1e-14)
    for row in x[:20]:  # a single row takes the scalar path of ndtri
        np.testing.assert_allclose(
            transform(row[np.newaxis].copy()), scaler.transform(row[np.newaxis]), rtol=1e-14, atol=1e-14
        )


def test_ndtri_gives_scipys_normal_quantiles_to_a_few_units_in_the_last_place():
    rng = np.random.default_rng(0)
    p = np.concatenate(
        [
            rng.uniform(size=20000),
            10 ** rng.uniform(-300, -1, 5000),
            1 - 10 ** rng.uniform(-16, -1, 5000),
            [0, 1, 0.5, np.nan, -1, 2, np.exp(-2), 5e-324],
        ]
    )
    expected = scipy.special.ndtri(p)
    for got in (transforms.ndtri(p), np.concatenate([transforms.ndtri(part) for part in np.array_split(p, 3000)])):
        assert np.array_equal(np.isnan(got), np.isnan(expected))
        finite = np.isfinite(expected)
        assert np.array_equal(got[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)])
        np.testing.assert_allclose(got[finite], expected[finite], rtol=2e-15, atol=0)


# ---------------------------------------------------------------- what the request path loads

LEAN_PROBE = """
import json, pickle, sys
from functions_framework.aio import create_asgi_app
from starlette.testclient import TestClient

def refuse(*args, **kwargs):
    raise AssertionError("something was unpickled")

pickle.load = pickle.loads = refuse
pickle.Unpickler = refuse
client = TestClient(create_asgi_app(target="predict", source=sys.argv[1]))
answer = client.post("/predict", json={"data": [[49.9, 34.3, 5.83, 32.0, 1.30]] * 3})
assert answer.status_code == 200, answer.text
heavy = ("torch", "sklearn", "scipy", "joblib", "pandas")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in heavy)))
"""


@pytest.mark.server
def test_serving_a_prediction_imports_no_torch_scikit_learn_scipy_or_joblib_and_unpickles_nothing():
    run = subprocess.run(
        [sys.executable, "-c", LEAN_PROBE, str(ROOT / "function" / "main.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "MODEL_DIR": str(DEFAULT_MODEL)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []


def test_the_deployed_requirements_leave_out_the_training_stack():
    names = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith(("#", "-"))
    }
    assert {"numpy", "safetensors", "functions-framework", "flask"} <= names
    assert not names & {"torch", "scikit-learn", "scipy", "joblib", "pandas", "threadpoolctl"}


def test_a_model_saved_without_background_rows_says_it_cannot_explain():
    """`explains` is False, and asking for a baseline or contributions anyway names what is missing
    instead of failing on None."""
    model, manifest = small_model()
    predictor = served(model, manifest)
    assert not predictor.explains
    assert predictor.predict(np.zeros((1, len(predictor.features))), explain=True)[1] is None
    with pytest.raises(ValueError, match="background"):
        _ = predictor.baseline
    with pytest.raises(ValueError, match="background"):
        predictor.explain(np.zeros((1, len(predictor.features))))
