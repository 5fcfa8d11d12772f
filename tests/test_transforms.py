"""What the preprocessing steps refuse and where their bounds lie: the rules mutation testing found
no test held. Run with warnings as errors: a RuntimeWarning on the request path
(a division by zero, an invalid comparison) is a bug, not noise."""

import numpy as np
import pytest

from soundness import ratios, transforms

pytestmark = pytest.mark.filterwarnings("error")

REFERENCES = np.linspace(0, 1, 5)
QUANTILES = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0], [3.0, 40.0], [4.0, 50.0]])


def quantile(quantiles=QUANTILES, references=REFERENCES, output="uniform"):
    return transforms.build({"kind": "quantile", "output": output}, {"quantiles": quantiles, "references": references})


@pytest.mark.parametrize(
    "quantiles, references",
    [
        (QUANTILES[::-1], REFERENCES),  # quantiles decreasing
        (QUANTILES, np.array([0.0, 0.25, 0.25, 0.75, 1.0])),  # a reference repeated
        (QUANTILES, REFERENCES - 0.1),  # a reference below 0
        (QUANTILES, REFERENCES + 0.1),  # a reference above 1
    ],
    ids=["quantiles decrease", "references repeat", "reference below 0", "reference above 1"],
)
def test_a_quantile_step_refuses_arrays_it_cannot_interpolate(quantiles, references):
    with pytest.raises(ValueError, match="non-decreasing quantiles and increasing references"):
        quantile(quantiles, references)


def test_a_quantile_step_takes_repeated_quantiles_and_references_from_exactly_0_to_exactly_1():
    repeated = QUANTILES.copy()
    repeated[2] = repeated[1]  # a mass of equal values in training
    transform = quantile(repeated)
    assert transform(np.array([[1.0, 20.0]])).shape == (1, 2)
    assert transform(np.array([[-5.0, 60.0]])).tolist() == [[0.0, 1.0]]  # beyond the ends: the ends


@pytest.mark.parametrize("kind", ["standard", "robust"])
def test_a_centred_step_with_a_scale_of_0_is_refused_and_a_tiny_scale_taken(kind):
    with pytest.raises(ValueError, match="scale of 0"):
        transforms.build({"kind": kind}, {"center": np.zeros(2), "scale": np.array([1.0, 0.0])})
    tiny = transforms.build({"kind": kind}, {"center": np.zeros(2), "scale": np.array([1.0, 1e-300])})
    assert tiny(np.array([[1.0, 1e-300]])).tolist() == [[1.0, 1.0]]


def test_a_maxabs_step_with_a_scale_of_0_is_refused():
    with pytest.raises(ValueError, match="scale of 0"):
        transforms.build({"kind": "maxabs"}, {"scale": np.array([0.0, 2.0])})
    half = transforms.build({"kind": "maxabs"}, {"scale": np.array([2.0, -4.0])})
    assert half(np.array([[1.0, 1.0]])).tolist() == [[0.5, -0.25]]


def test_a_clip_step_refuses_a_lower_bound_above_its_upper_and_takes_equal_bounds():
    with pytest.raises(ValueError, match="lower bound above its upper bound"):
        transforms.build({"kind": "clip"}, {"lower": np.array([0.0, 2.0]), "upper": np.array([1.0, 1.0])})
    pinned = transforms.build({"kind": "clip"}, {"lower": np.array([0.0, 1.0]), "upper": np.array([1.0, 1.0])})
    assert pinned(np.array([[5.0, -5.0], [np.nan, 1.0]])).tolist()[0] == [1.0, 1.0]
    assert np.isnan(pinned(np.array([[np.nan, 1.0]]))[0, 0])  # unknown stays unknown


@pytest.mark.parametrize(
    "assets, liabilities, equity, share",
    [(100.0, 60.0, 50.0, "10.00%"), (200.0, -50.0, 253.0, "1.50%"), (100.0, 100.0, 1.0, "1.00%")],
)
def test_balance_mismatch_says_the_gap_as_a_share_of_the_larger_of_assets_and_liabilities(
    assets, liabilities, equity, share
):
    [warning] = ratios.balance_warning(assets, liabilities, equity)
    assert f"by {share} of the larger of total_assets and total_liabilities" in warning["message"]


def test_a_gap_of_exactly_half_a_percent_balances_and_a_hair_more_does_not():
    assert ratios.balance_warning(1000.0, 400.0, 605.0) == []  # 5 of 1000: 0.5 %
    assert ratios.balance_warning(1000.0, 400.0, 605.5) != []
    columns = {"total_assets": np.array([1000.0, 1000.0]), "total_liabilities": np.array([400.0, 400.0])}
    columns["total_equity"] = np.array([605.0, 605.5])
    assert ratios.maybe_unbalanced(columns).tolist() == [False, True]  # the batch's sieve agrees


def test_a_normal_quantile_step_maps_inputs_closer_than_its_margin_to_an_end_to_that_end_and_no_others():
    """scikit-learn's rule: strictly within BOUNDS_THRESHOLD of the first or last quantile."""
    margin = transforms.BOUNDS_THRESHOLD
    # Quantiles closer than the margin's few multiples, so what the rule decides is not undone by the clip.
    q = np.array([[0.0], [4 * margin], [0.5], [1 - 4 * margin], [1.0]])
    transform = quantile(q, output="normal")
    lowest, highest = transform(np.array([[-1.0], [2.0]]))[:, 0]
    inside = np.array([[0.5 * margin], [margin], [2 * margin], [1 - 0.5 * margin], [1 - margin], [1 - 2 * margin]])
    assert (1 - margin) + margin == 1.0  # the boundary case below is exact
    out = transform(inside)[:, 0]
    assert out[0] == lowest and out[3] == highest
    assert lowest < out[1] < out[2] and out[5] < out[4] < highest  # exactly the margin away: not an end


def test_an_input_equal_to_a_repeated_quantile_maps_to_the_middle_of_its_references():
    repeated = QUANTILES.copy()
    repeated[2] = repeated[1]  # references 0.25 and 0.5 at the same quantile: scikit-learn takes their mean
    assert quantile(repeated)(np.array([[1.0, 20.0], [0.5, 15.0]])).tolist() == [[0.375, 0.375], [0.125, 0.125]]
