"""The optimised prediction path gives the plain path's answers (scikit-learn transform + torch module).

Predictor.probabilities skips scikit-learn's validation and torch's module machinery; these tests
hold it to Predictor.probabilities_plain within 1e-6, on random rows, single rows and edge cases.
"""
import numpy as np
import pytest
import torch
from sklearn.preprocessing import (MaxAbsScaler, MinMaxScaler, PowerTransformer, QuantileTransformer,
                                   RobustScaler, StandardScaler)
from torch import nn

from soundness import artifacts
from soundness.network import NeuralNet
from soundness.predictor import Predictor, _kernel_steps, _numpy_transform, _run_steps

from helpers import write_small_artifact

TOLERANCE = 1e-6
SCALERS = {
    "minmax": MinMaxScaler,
    "minmax-clipped": lambda: MinMaxScaler(clip=True),
    "standard": StandardScaler,
    "standard-without-mean": lambda: StandardScaler(with_mean=False),
    "robust": RobustScaler,
    "maxabs": MaxAbsScaler,
    "quantile": lambda: QuantileTransformer(n_quantiles=20),
    "quantile-normal": lambda: QuantileTransformer(n_quantiles=20, output_distribution="normal"),
}
SEED_SHAPE = [8, 32, 518, 32, 16]
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
    for module in network.modules():
        if isinstance(module, nn.BatchNorm1d):
            size = module.num_features
            module.running_mean.copy_(torch.randn(size, generator=generator))
            module.running_var.copy_(torch.rand(size, generator=generator) * 3 + 0.1)
            module.weight.data.copy_(torch.randn(size, generator=generator))
            module.bias.data.copy_(torch.randn(size, generator=generator))


def assert_paths_agree(predictor: Predictor, x: np.ndarray) -> None:
    np.testing.assert_allclose(predictor.probabilities(x), predictor.probabilities_plain(x),
                               rtol=0, atol=TOLERANCE)
    for row in x[:12]:
        one = row[np.newaxis, :]
        np.testing.assert_allclose(predictor.probabilities(one), predictor.probabilities_plain(one),
                                   rtol=0, atol=TOLERANCE)


@overflow_is_expected
@pytest.mark.parametrize("kind", SCALERS)
def test_the_fast_path_agrees_with_the_plain_path_for_each_kind_of_scaler(tmp_path, kind):
    directory = write_small_artifact(tmp_path / kind, hidden=(16, 32, 8), scaler=SCALERS[kind](), seed=3)
    artifact = artifacts.load(directory)
    randomise_batchnorm(artifact.network, seed=3)
    predictor = Predictor(artifact)
    x = np.random.default_rng(3).normal(size=(500, 5)) * 30  # some beyond the ±50 clip bounds
    assert_paths_agree(predictor, x)
    assert_paths_agree(predictor, edge_rows(5, bound=50.0))


@overflow_is_expected
def test_the_fast_path_agrees_with_the_plain_path_for_the_seed_model(seed_model_dir):
    predictor = Predictor(artifacts.load(seed_model_dir))
    rng = np.random.default_rng(5)
    # Growth -100..900 %, margins -100..60 %, equity ratio -50..100 %, turnover 0..5: real statements' range.
    low, high = np.array([-100, -100, -100, -50, 0]), np.array([900, 900, 60, 100, 5])
    assert_paths_agree(predictor, rng.uniform(low, high, size=(2000, 5)))
    assert_paths_agree(predictor, edge_rows(5, bound=1000.0))


@overflow_is_expected
def test_extreme_values_give_the_same_answer_on_both_paths_even_when_the_network_overflows(seed_model_dir):
    predictor = Predictor(artifacts.load(seed_model_dir))
    x = np.array([[1e30, 1e30, -1e30, 1e30, 1e30], [1e40, 0, 0, 0, 0], [-1e300, 5, 5, 5, 5]])
    fast, plain = predictor.probabilities(x), predictor.probabilities_plain(x)
    assert np.array_equal(np.isnan(fast), np.isnan(plain))
    np.testing.assert_allclose(fast, plain, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("kind", SCALERS)
def test_each_scaler_is_computed_in_numpy_exactly_as_scikit_learn_computes_it(kind):
    rng = np.random.default_rng(7)
    fitted_on = rng.normal(size=(300, 5)) * 30
    fitted_on[:, 2] = np.round(fitted_on[:, 2] / 10)  # repeated values: repeated quantiles
    scaler = SCALERS[kind]().fit(fitted_on)
    lowest, highest = fitted_on.min(axis=0), fitted_on.max(axis=0)
    near_the_ends = [lowest, highest, lowest + 5e-8, highest - 5e-8]  # within QuantileTransformer's 1e-7
    x = np.vstack([rng.normal(size=(200, 5)) * 40, *near_the_ends, np.full(5, np.nan),
                   edge_rows(5, bound=100.0)])
    assert np.array_equal(_numpy_transform(scaler)(x), scaler.transform(x), equal_nan=True)


def test_a_scaler_the_fast_path_does_not_know_is_left_to_scikit_learn():
    scaler = PowerTransformer().fit(np.random.default_rng(0).normal(size=(50, 5)))
    assert _numpy_transform(scaler) is None


def test_the_seed_shaped_network_runs_as_a_flat_list_of_kernels_with_the_same_logits():
    network = NeuralNet(5, SEED_SHAPE, dropout=0.3).eval()
    randomise_batchnorm(network, seed=1)
    steps = _kernel_steps(network)
    assert len(steps) == 6 + 5 + 4  # linear layers, batch norms, activations; dropout is skipped
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        assert torch.equal(_run_steps(steps, x), network(x))


def test_a_network_with_a_layer_the_fast_path_does_not_know_falls_back_to_the_module():
    assert _kernel_steps(nn.Sequential(nn.Linear(5, 4), nn.GELU(), nn.Linear(4, 2)).eval()) is None


def test_batch_norm_in_training_mode_is_never_inlined():
    assert _kernel_steps(NeuralNet(5, [4, 3]).train()) is None
