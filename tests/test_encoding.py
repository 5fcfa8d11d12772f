"""The missing-aware input encoding: fitted in training, applied by the server's transforms."""

import numpy as np

from soundness import transforms
from training.recipes import MISSING_STEP, fit_quantile_normal

rng = np.random.default_rng(0)


def built(step_arrays):
    return transforms.build(*step_arrays)


def test_the_quantile_normal_map_is_monotone_centred_and_clips_beyond_the_training_range():
    x = np.column_stack([rng.lognormal(size=2000), rng.normal(size=2000)])
    transform = built(fit_quantile_normal(x))
    grid = np.linspace(-5, 50, 500)
    out = transform(np.column_stack([grid, grid]))
    assert np.all(np.diff(out, axis=0) >= 0)
    medians = transform(np.median(x, axis=0, keepdims=True))
    assert np.abs(medians).max() < 0.05
    far = transform(np.array([[1e300, -1e300]]))
    assert far[0, 0] == out[:, 0].max() and np.isfinite(far).all()


def test_a_mass_of_equal_values_maps_to_one_score_and_nan_stays_nan():
    x = np.concatenate([np.zeros(600), rng.normal(size=400)])[:, None]
    x[::50] = np.nan
    transform = built(fit_quantile_normal(x))
    out = transform(np.array([[0.0], [0.0], [np.nan]]))
    assert out[0, 0] == out[1, 0] and np.isnan(out[2, 0])


def test_unknown_values_become_the_fill_with_an_indicator_for_every_column():
    out = built(MISSING_STEP)(np.array([[1.5, np.nan, -2.0]]))
    assert out.tolist() == [[1.5, 0.0, -2.0, 0.0, 1.0, 0.0]]
