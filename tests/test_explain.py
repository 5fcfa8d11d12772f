"""Explanations: each input's share of the log-odds, adding up to the score exactly."""

from itertools import pairwise

import numpy as np
import pytest

from soundness.explain import Explainer

rng = np.random.default_rng(0)


def explainer(widths, groups, slope=0.01, background_rows=32):
    layers = [(rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b) * 0.1) for a, b in pairwise(widths)]
    background = rng.normal(size=(background_rows, widths[0]))
    return Explainer(layers, slope, rng.normal(size=widths[-1]), -4.0, background, np.asarray(groups))


@pytest.mark.parametrize("widths", [[6], [6, 16], [6, 40, 24, 12]])
def test_baseline_plus_contributions_is_the_score(widths):
    e = explainer(widths, [0, 1, 2, 0, 1, 2])
    x = rng.normal(size=(20, 6)) * 3
    contributions = e.contributions(x)
    assert contributions.shape == (20, 3)
    np.testing.assert_allclose(e.baseline + contributions.sum(axis=1), e.scores(x), rtol=0, atol=1e-9)


def test_a_linear_model_gets_each_weight_times_the_distance_from_the_mean_background():
    e = explainer([4], [0, 1, 2, 3])
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(e.contributions(x), (x - e.background.mean(axis=0)) * e.score_weight, atol=1e-12)


def test_an_input_equal_to_every_background_row_gets_nothing():
    e = explainer([3, 8], [0, 1, 2])
    background = e.background.copy()
    background[:, 1] = 0.7
    e = Explainer(e.layers, e.slope, e.score_weight, e.score_bias, background, np.arange(3))
    assert e.contributions(np.array([[2.0, 0.7, -1.0]]))[0, 1] == 0.0
