"""Explanations: each input's share of the log-odds, adding up to the score exactly."""

from itertools import pairwise

import numpy as np
import pytest

from soundness.explain import Explainer

rng = np.random.default_rng(0)


def explainer(widths, groups, slope=0.01, background_rows=32, weighted=False):
    layers = [(rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b) * 0.1) for a, b in pairwise(widths)]
    background = rng.normal(size=(background_rows, widths[0]))
    weights = rng.dirichlet(np.ones(background_rows)) if weighted else None
    return Explainer(layers, slope, rng.normal(size=widths[-1]), -4.0, background, np.asarray(groups), weights)


def again(e, background, weights=None):
    """The same network explaining against another background."""
    return Explainer(
        e.layers, e.slope, e.score_weight, e.score_bias, background, np.arange(background.shape[1]), weights
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("widths", [[6], [6, 16], [6, 40, 24, 12]])
def test_baseline_plus_contributions_is_the_score(widths, weighted):
    e = explainer(widths, [0, 1, 2, 0, 1, 2], weighted=weighted)
    x = rng.normal(size=(20, 6)) * 3
    contributions = e.contributions(x)
    assert contributions.shape == (20, 3)
    np.testing.assert_allclose(e.baseline + contributions.sum(axis=1), e.scores(x), rtol=0, atol=1e-9)


def test_a_linear_model_gets_each_weight_times_the_distance_from_the_weighted_mean_background():
    e = explainer([4], [0, 1, 2, 3], weighted=True)
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(e.contributions(x), (x - e.weights @ e.background) * e.score_weight, atol=1e-12)


def test_the_baseline_is_the_weighted_mean_score_of_the_background():
    e = explainer([4, 8, 3], [0, 1, 2, 3], weighted=True)
    assert e.baseline == pytest.approx(e.weights @ e.scores(e.background), abs=1e-12)


def test_without_weights_every_background_row_counts_the_same():
    e = explainer([4, 8], [0, 1, 2, 3])
    equal = again(e, e.background, np.full(len(e.background), 1 / len(e.background)))
    x = rng.normal(size=(5, 4))
    np.testing.assert_allclose(e.contributions(x), equal.contributions(x), rtol=0, atol=1e-12)
    assert e.baseline == pytest.approx(np.mean(e.scores(e.background)), abs=1e-12)


def test_a_weight_is_a_share_two_thirds_counts_as_two_copies_of_a_row_and_zero_as_none():
    e = explainer([4, 8, 3], [0, 1, 2, 3])
    a, b, c = rng.normal(size=(3, 4))
    x = rng.normal(size=(5, 4))
    weighted = again(e, np.array([a, b, c]), np.array([2 / 3, 1 / 3, 0.0]))
    copies = again(e, np.array([a, a, b]))
    np.testing.assert_allclose(weighted.contributions(x), copies.contributions(x), rtol=0, atol=1e-12)
    assert weighted.baseline == pytest.approx(copies.baseline, abs=1e-12)


def test_an_input_equal_to_every_background_row_gets_nothing():
    e = explainer([3, 8], [0, 1, 2])
    background = e.background.copy()
    background[:, 1] = 0.7
    assert again(e, background).contributions(np.array([[2.0, 0.7, -1.0]]))[0, 1] == 0.0
