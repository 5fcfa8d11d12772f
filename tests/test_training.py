"""Training: the yardstick's protocol, the served model's artifact, calibration and the decision.

A small network for a few epochs on a quarter of the US companies keeps this to seconds; the
figures it reaches are not checked here (training/report/ holds the full run's).
"""

import json
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import DEFAULT_MODEL, SHARED, need_shared
from soundness import artifacts
from soundness.predictor import Predictor
from soundness.ratios import LEGACY_FEATURES
from training import background, data, grading, provenance, recipes, train, yardstick
from training.ensemble import average_networks
from training.network import NeuralNet

SMALL = recipes.NetworkConfig(hidden=(8, 8), members=2, max_epochs=3, patience=3, knots=21, five_only_fraction=0.2)


@pytest.fixture(scope="module")
def us():
    need_shared(SHARED / "data" / data.US_FILE)
    table = data.load_us(SHARED / "data")
    companies = sorted(table.frame["company"].unique())[::4]
    return replace(table, frame=table.frame[table.frame["company"].isin(companies)])


def served(us, directory, config=SMALL):
    provenance.pin_threads()  # as training.train does: one thread, one order of additions
    recipe = recipes.NetworkRecipe(config)
    fitted, calibration, chosen = train.fit_calibrated(recipe, us.frame, train.SERVED)
    manifest = {
        "model": {"name": "small", "version": "0"},
        "features": fitted.features,
        "network": {
            "architecture": "NeuralNet",
            "input_size": 2 * len(fitted.features),
            "hidden": [w * config.members for w in config.hidden],
            "num_classes": 2,
            "negative_slope": config.negative_slope,
            "dropout": config.dropout,
        },
        "decision": chosen,
    }
    train.write_artifact(
        directory,
        fitted,
        calibration,
        manifest,
        train.years(us.frame, train.SERVED["fit"]),
        train.years(us.frame, train.SERVED["validation"]),
    )
    return Predictor(artifacts.load(directory)), fitted


@pytest.fixture(scope="module")
def trained(us, tmp_path_factory):
    directory = tmp_path_factory.mktemp("trained") / "model"
    predictor, fitted = served(us, directory)
    return directory, predictor, fitted


@pytest.mark.data
def test_the_served_artifact_takes_unknown_ratios_and_scores_like_training(trained, us):
    _, predictor, fitted = trained
    assert predictor.accepts_missing and predictor.features == list(recipes.ALL_RATIOS)
    rows = train.years(us.frame, train.SERVED["validation"])
    margin_probability = train.platt(predictor.manifest["calibration"], fitted(rows))
    np.testing.assert_allclose(
        predictor.probabilities(rows[fitted.features].to_numpy(float)), margin_probability, atol=1e-6
    )
    five_only = np.full((1, len(fitted.features)), np.nan)
    five_only[0, :5] = [49.9, 34.3, 5.83, 32.0, 1.30]
    assert 0 < predictor.probabilities(five_only)[0] < 1


@pytest.mark.data
def test_every_served_prediction_is_explained_exactly_in_log_odds(trained, us):
    _, predictor, fitted = trained
    x = us.frame[fitted.features].to_numpy(float)[:300]
    baseline, contributions = predictor.explain(x)
    assert contributions.shape == (300, len(fitted.features))
    np.testing.assert_allclose(baseline + contributions.sum(axis=1), predictor.scores(x), rtol=0, atol=1e-6)
    assert predictor.manifest["explanation"]["background_rows"] == background.ROWS


@pytest.mark.data
def test_the_background_is_actual_encoded_fit_year_rows_weighted_by_the_share_of_the_fit_years_they_stand_for(
    trained, us
):
    directory, _, fitted = trained
    tensors = artifacts.load(directory).tensors
    rows, weights = tensors[artifacts.BACKGROUND], tensors[artifacts.BACKGROUND_WEIGHTS]
    encoded = fitted.encode(train.years(us.frame, train.SERVED["fit"]))
    assert all((row == encoded).all(axis=1).any() for row in rows)
    assert len(np.unique(rows, axis=0)) == background.ROWS
    assert (weights > 0).all() and weights.sum() == pytest.approx(1, abs=1e-12)


@pytest.mark.data
def test_the_served_model_is_fitted_calibrated_and_thresholded_on_the_years_before_the_test_years(trained):
    _, predictor, _ = trained
    manifest = predictor.manifest
    assert train.SERVED["fit"] == (1999, 2011)
    assert manifest["calibration"]["fitted_on"] == "validation years 2012-2014"
    assert manifest["decision"]["chosen_on"] == "validation years 2012-2014"


@pytest.mark.data
def test_training_twice_writes_the_same_bits(trained, us, tmp_path):
    directory, _, _ = trained
    served(us, tmp_path / "again")
    assert (directory / artifacts.TENSORS).read_bytes() == (tmp_path / "again" / artifacts.TENSORS).read_bytes()
    first, second = (json.loads((d / artifacts.MANIFEST).read_text()) for d in (directory, tmp_path / "again"))
    for manifest in (first, second):
        del manifest["created"]["at"]  # the time stamp is all that may differ
    assert first == second


class RecordingRecipe:
    """A stand-in recipe that scores every row by its year and records the years it saw."""

    name = "recording"

    def __init__(self):
        self.calls = []

    def key(self):
        return "recording"

    def usable(self, frame):
        return frame["year"] > 0

    def select(self, fit, val):
        self.calls.append(("select", fit["year"].max(), val["year"].min(), val["year"].max()))
        return {}

    def fit(self, rows, settings):
        self.calls.append(("fit", rows["year"].max()))
        return lambda frame: frame["year"].to_numpy(float)


def year_table(monkeypatch, tmp_path):
    monkeypatch.setattr(yardstick, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(yardstick, "sha256_of", lambda path: "data")
    frame = pd.DataFrame({"year": np.repeat(np.arange(2000, 2019), 3), "label": 0, "company": "c"})
    return data.Table(frame, SHARED / "data" / data.US_FILE, "test")


def test_each_year_is_scored_by_a_model_fitted_before_it_with_settings_chosen_on_the_three_years_before(
    tmp_path, monkeypatch
):
    table = year_table(monkeypatch, tmp_path)
    recipe = RecordingRecipe()
    scores = yardstick.rolling_scores(recipe, table, years=(2010, 2011))
    assert sorted(recipe.calls, key=str) == sorted(
        [("select", 2006, 2007, 2009), ("fit", 2009), ("select", 2007, 2008, 2010), ("fit", 2010)], key=str
    )
    assert scores["year"].tolist() == [2010] * 3 + [2011] * 3


def test_recipe_choices_are_made_on_rolling_years_before_the_test_years():
    assert max(yardstick.CHOICE_YEARS) < data.SPLITS["test"][0]


def test_a_cached_score_is_reused_for_the_same_code_and_never_across_a_code_change(tmp_path, monkeypatch):
    table = year_table(monkeypatch, tmp_path)
    code = tmp_path / "code.py"
    code.write_text("SCALE = 1\n")
    monkeypatch.setattr(provenance, "imported_code", lambda: [code])
    monkeypatch.setattr(provenance, "ROOT", tmp_path)
    first = RecordingRecipe()
    scores, from_cache = yardstick.rolling_scores_of({"r": first}, table, (2010,), cache=True)
    assert first.calls and from_cache == {"r": False}
    again = RecordingRecipe()
    cached, from_cache = yardstick.rolling_scores_of({"r": again}, table, (2010,), cache=True)
    assert not again.calls and from_cache == {"r": True}
    assert cached["r"]["score"].tolist() == scores["r"]["score"].tolist()
    code.write_text("SCALE = 2\n")  # the same recipe, the same data: other code
    changed = RecordingRecipe()
    _, from_cache = yardstick.rolling_scores_of({"r": changed}, table, (2010,), cache=True)
    assert changed.calls and from_cache == {"r": False}


def test_without_the_cache_every_score_is_computed_afresh(tmp_path, monkeypatch):
    table = year_table(monkeypatch, tmp_path)
    yardstick.rolling_scores_of({"r": RecordingRecipe()}, table, (2010,), cache=True)
    fresh = RecordingRecipe()
    _, from_cache = yardstick.rolling_scores_of({"r": fresh}, table, (2010,))
    assert fresh.calls and from_cache == {"r": False}


@pytest.mark.data
def test_the_rolling_scores_are_the_same_bits_in_worker_processes_as_in_this_one(us):
    recipe = recipes.NetworkRecipe(replace(SMALL, max_epochs=2))
    alone, _ = yardstick.rolling_scores_of({"r": recipe}, us, (2012, 2013), log=lambda _: None)
    pooled, _ = yardstick.rolling_scores_of({"r": recipe}, us, (2012, 2013), log=lambda _: None, jobs=2)
    columns = ["row", "year", "score", "score_five_only"]
    pd.testing.assert_frame_equal(alone["r"][columns], pooled["r"][columns], check_exact=True)


def test_the_manifest_records_the_code_it_was_made_by_file_by_file():
    record = provenance.record(provenance.pin_threads(), SHARED / "data", [])
    assert "training/train.py" in record["code_sha256"] and "src/soundness/ratios.py" in record["code_sha256"]
    assert record["threads"]["torch_intra_op"] == 1 and record["libraries"]["torch"].startswith("2.13.0")
    assert set(record["git"]) == {"code_commit", "code_clean"}


def test_grades_are_bands_three_times_apart_centred_on_the_validation_event_rate():
    y = np.array([1] * 9 + [0] * 891)  # 1 %
    points = grading.cut_points(y)
    assert points == pytest.approx([0.01 / 3**1.5, 0.01 / 3**0.5, 0.01 * 3**0.5, 0.01 * 3**1.5], abs=1e-6)


def test_event_rates_count_each_grades_rows_and_events_and_set_rows_with_too_few_features_apart():
    p = np.array([0.001, 0.002, 0.01, 0.02, 0.05, 0.3, 0.4, 0.5])
    rows = pd.DataFrame({"label": [0, 0, 0, 1, 0, 1, 1, 0], "a": 1.0, "b": 1.0, "c": 1.0})
    rows.loc[7, ["b", "c"]] = np.nan
    rates = grading.event_rates(p, rows, ["a", "b", "c"], [0.005, 0.015, 0.03, 0.2], 2, "event", [2015, 2018])
    assert [(g["rows"], g["events"]) for g in rates["grades"]] == [(2, 0), (1, 0), (1, 1), (1, 0), (2, 2)]
    assert rates["insufficient"] == {"rows": 1, "events": 0}


def test_masking_leaves_each_row_exactly_the_asked_number_of_its_own_known_features():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, np.nan], "c": [1.0, 2.0, 3.0]})
    out = grading.masked_to(frame, ["a", "b", "c"], 2, np.random.default_rng(0))
    assert out.notna().sum(axis=1).tolist() == [2, 2, 2]
    assert out.loc[1].tolist()[1:] == [2.0, 2.0] and out.loc[2, "b"] != out.loc[2, "b"]
    assert len(grading.masked_to(frame, ["a", "b", "c"], 3, np.random.default_rng(0))) == 1


def test_five_only_inputs_keep_the_legacy_five_and_make_every_other_ratio_unknown():
    frame = pd.DataFrame([{name: 1.0 for name in recipes.ALL_RATIOS}])
    out = recipes.five_only(frame)
    assert out[list(LEGACY_FEATURES)].notna().all(axis=None)
    assert out.drop(columns=list(LEGACY_FEATURES)).isna().all(axis=None)


def test_averaged_networks_give_the_mean_of_the_members_logits():
    torch.manual_seed(0)
    members = []
    for _ in range(3):
        network = NeuralNet(5, [6, 4, 3], 2, 0.01, 0.1).train()
        network(torch.randn(64, 5) * 3 + 1)  # moves BatchNorm's running statistics off their defaults
        members.append(network.eval())
    merged = average_networks(members, 0.01, 0.1)
    x = torch.randn(50, 5)
    with torch.no_grad():
        expected = torch.stack([m(x) for m in members]).mean(0)
        assert torch.allclose(merged(x), expected, atol=1e-6)


def test_the_f1_threshold_is_the_probability_that_best_separates_a_clear_case():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0.01, 0.02, 0.03, 0.2, 0.3, 0.4])
    assert train.max_f1_threshold(p, y) == pytest.approx(0.3)


def test_platt_calibration_recovers_a_known_logistic_link():
    rng = np.random.default_rng(0)
    margin = rng.normal(size=20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(2.0 * margin - 3.0)))).astype(int)
    fit = train.fit_platt(margin, y, "test rows")
    assert fit["a"] == pytest.approx(2.0, abs=0.15) and fit["b"] == pytest.approx(-3.0, abs=0.15)


class SpyTeacher(recipes.BoostingRecipe):
    """A boosting teacher that records, for every scoring, the companies it was also fitted on."""

    def __init__(self):
        super().__init__()
        self.overlaps = []

    def fit(self, rows, settings):
        scorer, fitted_on = super().fit(rows, settings), set(rows["company"])

        def score(frame):
            self.overlaps.append(fitted_on & set(frame["company"]))
            return scorer(frame)

        return score


def synthetic_rows(n=400, companies=40):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n, len(recipes.ALL_RATIOS))), columns=list(recipes.ALL_RATIOS))
    frame["label"] = (frame[recipes.ALL_RATIOS[0]] + rng.normal(size=n) > 1.5).astype(int)
    frame["company"] = np.arange(n) % companies
    return frame


def test_an_out_of_fold_teacher_scores_each_company_by_a_model_never_fitted_on_it():
    teacher = SpyTeacher()
    recipe = recipes.NetworkRecipe(replace(SMALL, distill=1.0), teacher, teacher_folds=4)
    margins = recipe._teacher_margins(synthetic_rows(), {"teacher": {"learning_rate": 0.1, "max_iter": 10}})
    assert len(teacher.overlaps) == 4 and not any(teacher.overlaps)
    assert margins.shape == (400,) and np.isfinite(margins).all()


def test_distillation_without_a_teacher_is_refused():
    with pytest.raises(ValueError, match="teacher"):
        recipes.NetworkRecipe(replace(SMALL, distill=1.0))


@pytest.mark.data
def test_the_bundled_models_grades_rise_with_their_observed_event_rates_as_its_manifest_says():
    """Recomputed with the served (numpy) predictor: the manifest's event rates are the data's,
    strictly rising on the US test years and not falling on the Korean rows."""
    us, kr = data.load_us(need_shared(SHARED / "data")), data.load_kr(SHARED / "data")
    predictor = Predictor(artifacts.load(DEFAULT_MODEL))
    manifest, features = predictor.manifest, predictor.features
    grades, least = manifest["grades"], manifest["insufficient"]["min_known_features"]
    assert grades["chosen_on"] == "validation years 2012-2014"
    test = us.split("test")
    for rows, name in ((test[test[features].notna().any(axis=1)], "us_test"), (train.korean_rows(kr), "kr")):
        p = predictor.probabilities(rows[features].to_numpy(float))
        recomputed = grading.event_rates(p, rows, features, grades["cut_points"], least, "", [])
        assert recomputed["grades"] == grades["event_rates"][name]["grades"]
        rates = [g["rate"] for g in recomputed["grades"]]
        assert all(a < b for a, b in pairwise(rates)) if name == "us_test" else all(a <= b for a, b in pairwise(rates))


def test_the_bundled_models_limits_and_training_data_are_told_in_korean_and_english():
    """The page shows them in its language (GET /model): each in Hangul for Korean, none for English."""
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text(encoding="utf-8"))
    told = [*manifest["limits"], manifest["training_data"]["description"]]
    assert len(told) == 9
    for text in told:
        assert set(text) == {"ko", "en"}
        assert any("\uac00" <= c <= "\ud7a3" for c in text["ko"])
        assert not any("\uac00" <= c <= "\ud7a3" for c in text["en"])


def test_the_bundled_artifact_was_made_by_the_training_code_as_it_is_now():
    """Else make train on a clean clone would not give the committed manifest: a change to code
    training loads needs the artifact retrained (make train) in the same change."""
    created = json.loads((DEFAULT_MODEL / "manifest.json").read_text(encoding="utf-8"))["created"]
    recorded = {**created["code_sha256"], **created["grading"]["code_sha256"]}  # training's, then its grading's
    changed = [path for path, digest in recorded.items() if artifacts.sha256_of(provenance.ROOT / path) != digest]
    assert changed == []
    assert recorded.keys() >= {"training/train.py", "src/soundness/ratios.py"}
