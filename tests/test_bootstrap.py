"""Company-level bootstrap intervals: the AUC arithmetic and the pairing they rest on."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from training import bootstrap

rng = np.random.default_rng(0)
Y = (rng.random(600) < 0.1).astype(int)
SCORE = np.round(rng.normal(size=600) + Y, 1)  # rounded: many ties
COMPANY = rng.integers(0, 150, 600)
YEAR = rng.integers(2010, 2013, 600)


def test_weighted_auc_is_scikit_learns_with_sample_weights_ties_included():
    weights = rng.integers(0, 4, (3, 600)).astype(float)
    expected = [roc_auc_score(Y, SCORE, sample_weight=w) for w in weights]
    assert bootstrap.weighted_auc(Y, SCORE, weights) == pytest.approx(expected, abs=1e-12)


def test_a_resample_weighs_every_row_of_a_company_alike():
    weights = next(bootstrap.company_weights(COMPANY, resamples=5))
    for company in np.unique(COMPANY):
        rows = weights[:, company == COMPANY]
        assert np.all(rows == rows[:, :1])


def test_a_score_compared_with_itself_differs_by_exactly_zero_and_a_better_one_by_more():
    better = SCORE + Y  # separates the classes further
    result = bootstrap.paired(
        Y, YEAR, COMPANY, {"a": SCORE, "same": SCORE.copy(), "better": better}, "a", resamples=200
    )
    assert result["same"]["difference_interval"] == [0.0, 0.0]
    assert result["better"]["difference_interval"][0] > 0
    per_year = np.mean([roc_auc_score(Y[t == YEAR], SCORE[t == YEAR]) for t in np.unique(YEAR)])
    assert result["a"]["mean_auc"] == pytest.approx(per_year, abs=1e-4)
    low, high = result["a"]["interval"]
    assert low < result["a"]["mean_auc"] < high
