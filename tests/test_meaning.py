"""What an answer means, through the public API: the event named, the grade, the red flags,
the reasons in words, and the grade for too little to judge.

Grades need the manifest keys training writes (grades.cut_points, insufficient); until the
bundled model carries them, these tests serve a copy of it with the keys added in a temporary
directory (a manifest-only change: the tensors' sha256 still holds).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import shutil

import pytest

from helpers import DEFAULT_MODEL, LEGACY_STATEMENT, SMALL_STATEMENT
from soundness.flags import FLAG_BY_CODE, FLAGS
from soundness.grades import GRADES, INSUFFICIENT

CUT_POINTS = [0.003, 0.01, 0.03, 0.1]
EVENT = {
    "code": "us_bankruptcy_filing_within_1y",
    "horizon_months": 12,
    "ko": "1년 안에 미국 파산법 제7장 또는 제11장 파산을 신청할 확률 (미국 상장사로 보정)",
    "en": "Probability of filing for Chapter 7 or 11 bankruptcy within a year (calibrated on US listed companies)",
}
RATES = {
    "us_test": {
        "event": "us_bankruptcy_filing_within_1y",
        "years": [2015, 2018],
        "grades": [{"rows": 100 * (i + 1), "events": i + 1, "rate": (i + 1) / (100 * (i + 1))} for i in range(5)],
    }
}


@pytest.fixture
def graded_model(tmp_path):
    """graded_model(**keys) -> a copy of the bundled model whose manifest has the event, grades and
    insufficient keys (or those given; None leaves a key out)."""

    def make(**keys):
        target = tmp_path / f"model{len(list(tmp_path.iterdir()))}"
        shutil.copytree(DEFAULT_MODEL, target)
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        added = {
            "event": EVENT,
            "grades": {"cut_points": CUT_POINTS, "chosen_on": "validation years 2012-2014", "event_rates": RATES},
            "insufficient": {"min_known_features": 6, "rule": "a test's"},
            **keys,
        }
        for key, value in added.items():  # None: the key left out, even if the bundled model has it
            if value is None:
                manifest.pop(key, None)
            else:
                manifest[key] = value
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return target

    return make


def predict(client, body):
    response = client.post("/predict", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def company(**changes):
    return {**LEGACY_STATEMENT, **changes}


def plain(**changes):
    """A company no flag is raised for (debt ratio 150 %, profits both years), changed."""
    return {**SMALL_STATEMENT, **changes}


# ---------------------------------------------------------------- 1. the event


def test_the_answer_and_get_model_name_the_event_from_the_manifest(make_client, graded_model):
    client = make_client(MODEL_DIR=graded_model())
    answer = predict(client, {"companies": [LEGACY_STATEMENT]})
    assert answer["event"] == {key: EVENT[key] for key in ("code", "ko", "en")}
    assert list(answer) == ["model", "event", "predictions"]
    assert client.get("/model").json()["event"] == EVENT


def test_get_model_says_what_label_and_class_mean(make_client, graded_model):
    model = make_client(MODEL_DIR=graded_model()).get("/model").json()
    meaning = model["label_meaning"]
    threshold = f"{model['decision']['threshold']:g}"
    assert threshold in meaning["ko"] and threshold in meaning["en"]
    assert "not a verdict" in meaning["en"] and "판정이 아닙니다" in meaning["ko"]


def test_a_model_without_the_new_keys_answers_without_event_or_grade(make_client, graded_model):
    client = make_client(MODEL_DIR=graded_model(event=None, grades=None, insufficient=None))
    answer = predict(client, {"companies": [LEGACY_STATEMENT]})
    assert "event" not in answer and "grade" not in answer["predictions"][0]
    model = client.get("/model").json()
    assert "event" not in model and "grades" not in model and "label_meaning" in model


def test_the_imported_legacy_model_answers_without_event_grade_or_reasons_but_with_flags(make_client, legacy_model_dir):
    client = make_client(MODEL_DIR=legacy_model_dir)
    answer = predict(client, {"companies": [company(total_equity=-1, total_liabilities=273842119657)]})
    (row,) = answer["predictions"]
    assert "event" not in answer and "grade" not in row and "reasons" not in row  # it has no explanation
    assert codes(row) == ["capital_erosion"]
    model = client.get("/model").json()
    assert "not a verdict" in model["label_meaning"]["en"]
    assert model["reason_groups"] == {}  # of the leverage ratios its five inputs have only the equity ratio


@pytest.mark.parametrize(
    "keys, problem",
    [
        ({"event": {"code": "x"}}, "event must be an object with the strings code, ko and en"),
        ({"grades": {"cut_points": [0.1, 0.05, 0.2, 0.3]}}, "ascending cut points"),
        ({"grades": {"cut_points": [0.1, 0.2]}}, "grades need 4"),
        ({"grades": {"cut_points": [0.1, 0.2, 0.3, 1.5]}}, "between 0 and 1"),
        (
            {"insufficient": {"min_known_features": 0}},
            "insufficient.min_known_features must be an integer from 1 to 16",
        ),
    ],
)
def test_a_manifest_with_unusable_meaning_keys_is_refused_with_the_key_named(make_client, graded_model, keys, problem):
    client = make_client(MODEL_DIR=graded_model(**keys))
    response = client.get("/ready")
    assert response.status_code == 503
    assert problem in response.text


# ---------------------------------------------------------------- 2. grades


def test_each_row_gets_the_grade_its_probability_falls_in(make_client, graded_model):
    client = make_client(MODEL_DIR=graded_model())
    rows = [
        company(),
        company(total_equity=-1e10, total_liabilities=2.8e11, operating_income=-5e10, net_income=-6e10),
        company(revenue=1e9, operating_income=-8e10, operating_income_prior=-6e10, net_income=-9e10),
    ]
    for answer in predict(client, {"companies": rows})["predictions"]:
        expected = GRADES[sum(c <= answer["probability_unsound"] for c in CUT_POINTS)]
        assert answer["grade"] == {"grade": expected.grade, "code": expected.code, "ko": expected.ko, "en": expected.en}
    graded = {a["grade"]["grade"] for a in predict(client, {"companies": rows})["predictions"]}
    assert len(graded) > 1  # the rows were chosen to span grades


def test_get_model_lists_the_grades_with_their_ranges_and_observed_event_rates(make_client, graded_model):
    grades = make_client(MODEL_DIR=graded_model()).get("/model").json()["grades"]
    assert grades["cut_points"] == CUT_POINTS and grades["chosen_on"] == "validation years 2012-2014"
    edges = [0.0, *CUT_POINTS, 1.0]
    assert [g["code"] for g in grades["scale"]] == [g.code for g in GRADES]
    for i, entry in enumerate(grades["scale"]):
        assert entry["probability"] == [edges[i], edges[i + 1]]
        assert entry["event_rates"] == {"us_test": RATES["us_test"]["grades"][i]}
    assert grades["insufficient"]["code"] == INSUFFICIENT.code and grades["insufficient"]["min_known_features"] == 6


# ---------------------------------------------------------------- 5. too little to judge


def test_below_the_stated_number_of_known_features_the_grade_is_insufficient(make_client, graded_model):
    client = make_client(MODEL_DIR=graded_model())
    # The legacy five ratios: 5 of 16 known, below the manifest's 6.
    five = predict(client, {"data": [[49.9, 34.3, 5.8, 32.0, 1.30]]})["predictions"][0]
    assert five["grade"] == {
        "grade": None,
        "code": "insufficient_data",
        "ko": "판단 근거 부족",
        "en": "Not enough data",
    }
    assert "probability_unsound" in five and "label" in five  # kept for the programs that read them
    # Two of nine statement values: one ratio known.
    two = predict(client, {"companies": [{"total_assets": 100, "revenue": 50}]})["predictions"][0]
    assert two["grade"]["code"] == "insufficient_data"
    full = predict(client, {"companies": [LEGACY_STATEMENT]})["predictions"][0]
    assert full["grade"]["grade"] in range(1, 6)


def test_without_a_stated_minimum_every_row_is_graded(make_client, graded_model):
    client = make_client(MODEL_DIR=graded_model(insufficient=None))
    five = predict(client, {"data": [[49.9, 34.3, 5.8, 32.0, 1.30]]})["predictions"][0]
    assert five["grade"]["grade"] in range(1, 6)


# ---------------------------------------------------------------- 3. red flags


def codes(answer):
    return [flag["code"] for flag in answer["flags"]]


def test_flags_are_given_for_statement_values_with_rule_and_source(make_client):
    client = make_client()
    answer = predict(client, {"companies": [plain()]})["predictions"][0]
    assert answer["flags"] == []  # checked, none raised
    eroded = predict(client, {"companies": [company(total_equity=-5, total_liabilities=273842119661)]})
    (flag,) = eroded["predictions"][0]["flags"]
    assert flag == FLAG_BY_CODE["capital_erosion"].card()
    assert flag["rule"] == "total_equity <= 0" and "제48조" in flag["source"] and "제54조" in flag["source"]


def test_flags_never_change_the_models_answer(make_client):
    client = make_client()
    row = plain(operating_income=-1, operating_income_prior=-1, net_income=-1)
    flagged = predict(client, {"companies": [row]})["predictions"][0]
    as_ratios = predict(client, {"instances": [flagged["ratios"]]})["predictions"][0]
    assert codes(flagged) == ["operating_losses"]
    assert flagged["probability_unsound"] == as_ratios["probability_unsound"]
    assert "flags" not in as_ratios  # not the statement-values form: not checked, not "none"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"total_liabilities": 4000, "total_equity": 2000}, []),  # exactly 200 %: not above
        ({"total_liabilities": 4002, "total_equity": 2000}, ["debt_ratio_above_200"]),
        ({"total_liabilities": 8002, "total_equity": 2000}, ["debt_ratio_above_200", "debt_ratio_above_400"]),
        ({"total_liabilities": 5000, "total_equity": 0}, ["capital_erosion"]),
        ({"total_liabilities": 5500, "total_equity": -500}, ["capital_erosion"]),
        ({"operating_income": -1}, []),  # one year's loss
        ({"operating_income": -1, "operating_income_prior": -1}, ["operating_losses"]),
        ({"operating_income": -1, "operating_income_prior": None}, []),  # a year not given: not judged
    ],
)
def test_each_flag_holds_exactly_where_its_rule_does(make_client, changes, expected):
    row = {k: v for k, v in plain(**changes).items() if v is not None}
    answer = predict(make_client(), {"companies": [row]})["predictions"][0]
    assert codes(answer) == expected


@pytest.mark.parametrize(
    "listing, revenues, expected",
    [
        ({"currency": "KRW", "market": "KOSPI"}, (4.9e9, 6e9), ["revenue_below_krx_floor"]),
        (
            {"currency": "KRW", "market": "KOSPI"},
            (4.9e9, 4.9e9),
            ["revenue_below_krx_floor", "revenue_below_krx_floor_two_years"],
        ),
        ({"currency": "KRW", "market": "KOSPI"}, (5e9, 4e9), []),  # the floor itself is not below it
        ({"currency": "KRW", "market": "KOSDAQ"}, (4.9e9, 4.9e9), []),  # KOSDAQ's floor is 30억
        (
            {"currency": "KRW", "market": "KOSDAQ"},
            (2.9e9, 2.9e9),
            ["revenue_below_krx_floor", "revenue_below_krx_floor_two_years"],
        ),
        ({"currency": "KRW", "market": "KONEX"}, (1e6, 1e6), []),
        ({"currency": "USD", "market": "KOSPI"}, (1e6, 1e6), []),  # not won: the floor does not apply
        ({"market": "KOSDAQ"}, (1e6, 1e6), []),  # unit unknown
        ({"currency": "KRW"}, (1e6, 1e6), []),  # market unknown
        ({"currency": None, "market": None}, (1e6, 1e6), []),  # null: not given
    ],
)
def test_the_krx_revenue_floors_apply_only_in_won_on_kospi_and_kosdaq(make_client, listing, revenues, expected):
    revenue, revenue_prior = revenues
    row = {**SMALL_STATEMENT, "revenue": revenue, "revenue_prior": revenue_prior, **listing}
    row.update(total_assets=1e10, total_assets_prior=1e10, total_liabilities=4e9, total_equity=6e9)
    answer = predict(make_client(), {"companies": [row]})["predictions"][0]
    assert codes(answer) == expected


@pytest.mark.parametrize(
    "listing, equity, expected",
    [
        ({"currency": "KRW", "market": "KOSDAQ"}, 9.99e8, ["equity_below_kosdaq_floor"]),
        ({"currency": "KRW", "market": "KOSDAQ"}, 1e9, []),
        ({"currency": "KRW", "market": "KOSPI"}, 9.99e8, []),  # KOSPI has no equity floor
        ({"currency": "USD", "market": "KOSDAQ"}, 9.99e8, []),
    ],
)
def test_the_kosdaq_equity_floor_applies_only_in_won_on_kosdaq(make_client, listing, equity, expected):
    row = {**SMALL_STATEMENT, **listing, "total_equity": equity, "total_liabilities": 1e10 - equity}
    row.update(total_assets=1e10, total_assets_prior=1e10, revenue=1e10, revenue_prior=1e10)
    answer = predict(make_client(), {"companies": [row]})["predictions"][0]
    assert [c for c in codes(answer) if not c.startswith("debt_ratio")] == expected


def test_flags_are_the_same_for_a_company_alone_and_in_a_batch(make_client):
    client = make_client()
    rows = [company(total_liabilities=5e11, total_equity=1e11, currency="KRW", market="KOSDAQ", revenue=1e9)] * 20
    rows += [plain()] * 20
    batch = predict(client, {"companies": rows})["predictions"]
    alone = [predict(client, {"companies": [row]})["predictions"][0] for row in (rows[0], rows[-1])]
    assert batch[0]["flags"] == alone[0]["flags"] and batch[-1]["flags"] == alone[1]["flags"] == []
    assert codes(alone[0]) == ["debt_ratio_above_200", "debt_ratio_above_400", "revenue_below_krx_floor"]


def test_a_company_checked_alone_gets_the_flags_the_arrays_give(make_client):
    """A few companies are checked one by one in floats, a batch as arrays: the same flags."""
    rng = random.Random(7)
    listings = [
        {},
        {"currency": "KRW"},
        {"currency": "KRW", "market": "KOSPI"},
        {"currency": "KRW", "market": "KOSDAQ"},
    ]
    rows = []
    for _ in range(300):
        row = {name: rng.choice([1, -1, 0.1]) * rng.choice([1e6, 2e9, 5e9, 4e10]) for name in SMALL_STATEMENT}
        row["total_assets"] = row["total_assets_prior"] = 1e11
        for name in rng.sample(list(SMALL_STATEMENT), rng.choice([0, 0, 1, 3])):
            row[name] = None
        rows.append({**row, **rng.choice(listings)})
    client = make_client()
    batch = predict(client, {"companies": rows})["predictions"]
    alone = [
        answer
        for start in range(0, len(rows), 5)
        for answer in predict(client, {"companies": rows[start : start + 5]})["predictions"]
    ]
    assert [a.get("flags") for a in batch] == [a.get("flags") for a in alone]
    assert sum(bool(a.get("flags")) for a in batch) > 100  # the rows were drawn to raise flags


@pytest.mark.parametrize(
    "listing, field, problem",
    [
        ({"currency": "won"}, "currency", "ISO 4217"),
        ({"currency": 410}, "currency", "ISO 4217"),
        ({"market": "kospi"}, "market", "must be one of KOSPI, KOSDAQ, KONEX, OTHER"),
    ],
)
def test_a_bad_currency_or_market_is_refused_naming_the_field(make_client, listing, field, problem):
    response = make_client().post("/predict", json={"companies": [{**LEGACY_STATEMENT, **listing}]})
    assert response.status_code == 422
    (detail,) = response.json()["error"]["details"]
    assert detail["field"] == field and problem in detail["problem"] and detail["index"] == 0


def test_get_model_lists_every_flags_rule_and_source(make_client):
    listed = make_client().get("/model").json()["flags"]
    assert listed == [flag.described() for flag in FLAGS]
    assert all(flag["rule"] and flag["source"] and flag["note"] for flag in listed)


# ---------------------------------------------------------------- 4. reasons


def assert_consistent(answer):
    """The reasons agree with the numbers: each is its group's contribution, says the direction
    of its sign, and an unknown input is never said to have helped."""
    explanation = answer["explanation"]
    groups = explanation["groups"]
    total = explanation["baseline"] + sum(groups.values())
    assert math.isclose(total, explanation["baseline"] + sum(explanation["contributions"].values()), abs_tol=1e-9)
    sizes = sorted((abs(v) for v in groups.values()), reverse=True)
    for reason in answer["reasons"]:
        contribution = groups[reason["name"]]
        assert reason["contribution"] == contribution != 0
        raised = contribution > 0
        assert reason["direction"] == ("raised" if raised else "lowered")
        assert ("높였습니다" in reason["ko"]) == raised and ("낮췄습니다" in reason["ko"]) == (not raised)
        assert ("raised" in reason["en"]) == raised and ("lowered" in reason["en"]) == (not raised)
        if "알 수 없어" in reason["ko"]:
            assert raised, reason
        for word in ("높아", "낮아", " high", " low "):  # no level judged against anything
            assert word not in reason["ko"] + reason["en"]
    assert [abs(r["contribution"]) for r in answer["reasons"]] == sorted(
        (abs(r["contribution"]) for r in answer["reasons"]), reverse=True
    )
    assert len(answer["reasons"]) <= 3 and (
        not answer["reasons"] or abs(answer["reasons"][0]["contribution"]) <= sizes[0]
    )


def test_the_leverage_ratios_are_explained_as_one_group_that_adds_up(make_client):
    answer = predict(make_client(), {"companies": [LEGACY_STATEMENT]})["predictions"][0]
    contributions, groups = answer["explanation"]["contributions"], answer["explanation"]["groups"]
    tied = ("equity_ratio_pct", "liabilities_to_assets_pct", "debt_ratio_pct")
    assert groups["leverage"] == pytest.approx(sum(contributions[name] for name in tied), abs=1e-12)
    assert not set(tied) & set(groups)
    assert set(groups) == (set(contributions) - set(tied)) | {"leverage"}
    assert_consistent(answer)
    model = make_client().get("/model").json()
    assert sorted(model["reason_groups"]["leverage"]["features"]) == sorted(tied)


def test_reasons_are_phrased_by_the_server_in_both_languages(make_client):
    answer = predict(make_client(), {"companies": [LEGACY_STATEMENT]})["predictions"][0]
    assert len(answer["reasons"]) == 3
    for reason in answer["reasons"]:
        assert reason["ko"].endswith("습니다.") and reason["en"].endswith("the risk.")


def test_an_unknown_input_is_never_said_to_have_helped(make_client):
    client = make_client()
    # The legacy five only: eleven ratios unknown, their contributions of either sign.
    answers = predict(client, {"data": [[49.9, 34.3, 5.8, 32.0, 1.30], [-60, -50, -40, 5, 0.2], [5, 2, 1, 80, 3]]})
    for answer in answers["predictions"]:
        assert_consistent(answer)
        unknown = {name for name, value in answer["ratios"].items() if value is None} or set(
            answer["explanation"]["contributions"]
        ) - set(answer["ratios"])
        lowered_unknown = [name for name, c in answer["explanation"]["groups"].items() if name in unknown and c < 0]
        said = {r["name"] for r in answer["reasons"]}
        assert not said & set(lowered_unknown)


def test_without_an_explanation_there_are_no_reasons(make_client):
    answer = predict(make_client(), {"companies": [LEGACY_STATEMENT], "explain": False})["predictions"][0]
    assert "explanation" not in answer and "reasons" not in answer


# ---------------------------------------------------------------- the targets, over the real data

BATCH = 1000


def answers_for(client, frame, listing=None):
    """Every row of a table posted as statement values (a value the row lacks left out), in
    batches; the answers in the table's order."""
    from soundness.ratios import STATEMENT_FIELDS

    answers = []
    records = frame[list(STATEMENT_FIELDS)].to_dict("records")
    for start in range(0, len(records), BATCH):
        companies = [
            {**{k: v for k, v in row.items() if not math.isnan(v)}, **(listing or {})}
            for row in records[start : start + BATCH]
        ]
        response = client.post("/predict", json={"companies": companies})
        assert response.status_code in (200, 422), response.text
        answers += response.json()["predictions"] if response.status_code == 200 else [{}] * len(companies)
    return answers


def contradictions(answers) -> int:
    """How many answers have a reason that contradicts its own contribution."""
    count = 0
    for answer in answers:
        if "reasons" not in answer:
            continue
        try:
            assert_consistent(answer)
        except AssertionError:
            count += 1
    return count


@pytest.fixture(scope="module")
def tables():
    from helpers import SHARED, need_shared
    from training import data

    need_shared(SHARED / "data" / data.US_FILE)
    need_shared(SHARED / "data" / data.KR_FILE)
    return data.load_us(SHARED / "data").split("test"), data.load_kr(SHARED / "data").frame


@pytest.mark.data
def test_no_reason_contradicts_its_contribution_on_any_us_test_or_korean_row(make_client, tables):
    us, kr = tables
    client = make_client(MAX_BODY_BYTES=10_000_000)
    for frame in (us, kr):
        answers = answers_for(client, frame)
        explained = [a for a in answers if "reasons" in a]
        assert len(explained) >= 0.95 * len(frame)  # nearly every row has a ratio to score
        assert contradictions(explained) == 0


@pytest.mark.data
def test_every_korean_company_year_with_equity_at_or_below_zero_carries_the_capital_erosion_flag(make_client, tables):
    _, kr = tables
    client = make_client(MAX_BODY_BYTES=10_000_000)
    answers = answers_for(client, kr, {"currency": "KRW"})
    eroded = (kr["total_equity"] <= 0).to_numpy()
    assert eroded.sum() > 0
    flagged = ["capital_erosion" in [f["code"] for f in a.get("flags", [])] for a in answers]
    scored = ["flags" in a for a in answers]
    assert all(scored[i] for i in range(len(kr)) if eroded[i]), "an eroded company-year went unscored"
    assert [f for f, e in zip(flagged, eroded) if e] == [True] * int(eroded.sum())
    assert not any(f for f, e in zip(flagged, eroded) if not e)  # and no other row carries it


def test_the_consistency_check_finds_a_reason_that_contradicts_its_contribution(make_client):
    answer = predict(make_client(), {"companies": [LEGACY_STATEMENT]})["predictions"][0]
    assert contradictions([answer]) == 0
    flipped = json.loads(json.dumps(answer))
    first = flipped["reasons"][0]
    first["ko"] = (
        first["ko"].replace("높였습니다", "낮췄습니다")
        if "높였" in first["ko"]
        else first["ko"].replace("낮췄습니다", "높였습니다")
    )
    assert contradictions([flipped]) == 1


@pytest.mark.data
def test_the_bundled_models_grades_observed_through_the_api_rise_with_the_grade(make_client, tables):
    """The bundled model's grades, measured as a client would: every US test row and Korean row
    posted, each grade's event rate from the answers' grades and the labels. The rates rise
    strictly from grade to grade on the US test years and never fall on the Korean companies,
    and they are the ones the manifest records (a row either side, for a probability within
    1e-6 of a cut point)."""
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text(encoding="utf-8"))
    if "grades" not in manifest:
        pytest.skip("the bundled model has no grades yet (training writes grades.cut_points)")
    client = make_client(MAX_BODY_BYTES=10_000_000)
    for frame, population, rise in zip(tables, ("us_test", "kr"), (float.__lt__, float.__le__)):
        answers = answers_for(client, frame)
        counts = [[0, 0] for _ in GRADES]
        for answer, label in zip(answers, frame["label"].tolist()):
            grade = answer.get("grade", {}).get("grade")
            if grade is not None:
                counts[grade - 1][0] += 1
                counts[grade - 1][1] += int(label)
        assert all(rows for rows, _ in counts), (population, counts)
        rates = [events / rows for rows, events in counts]
        assert all(rise(a, b) for a, b in itertools.pairwise(rates)), (population, counts)
        recorded = manifest["grades"]["event_rates"][population]["grades"]
        for (rows, events), entry in zip(counts, recorded):
            assert abs(rows - entry["rows"]) <= 1 and abs(events - entry["events"]) <= 1, (population, counts, recorded)
