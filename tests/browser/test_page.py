"""The web page, in a real browser against the real function: what a person types, sees and downloads."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from helpers import DEFAULT_MODEL, post_json
from soundness.ratios import STATEMENT_FIELDS

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.server]

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
EXAMPLE_CSV = FRONTEND / "example-companies.csv"
HANGUL = re.compile(r"[\u3131-\u318e\uac00-\ud7a3]")
FIELDS = list(STATEMENT_FIELDS)


def type_statement(page, statement: dict) -> None:
    """Keyboard only: type each amount with thousands separators, Tab to the next field."""
    page.locator(f'input[name="{FIELDS[0]}"]').focus()
    for name in FIELDS:
        page.keyboard.type(f"{statement[name]:,}")
        page.keyboard.press("Tab")


def predict_by_keyboard(page, statement: dict) -> None:
    type_statement(page, statement)
    page.keyboard.press("Enter")  # focus is on the submit button after the last field


def ratio_unit(name: str, lang: str = "ko") -> str:
    """The unit the page writes after a ratio's value (the test's own reading of its name)."""
    if name.endswith("_pct"):
        return "%"
    if name.endswith("_pp"):
        return "%p" if lang == "ko" else "pp"
    return "회" if lang == "ko" else "×"


def shown_ratio(value: float, name: str, lang: str = "ko") -> str:
    return f"{value:,.2f}{ratio_unit(name, lang)}"


def shown_probability(probability: float) -> str:
    return f"{probability * 100:.1f}%"


def read_amount(text: str) -> float:
    """The test's own reading of the example CSV's amounts: 1,234 and (1,234)."""
    text = text.replace(",", "").strip()
    return -float(text[1:-1]) if text.startswith("(") else float(text)


def visible_words(page) -> list[str]:
    """Texts the page writes (not data a person gave it): headings, labels, buttons but the
    language switch, table headers, notes, messages, the verdict, placeholders."""
    return page.evaluate("""() => {
        const selector = "h1, h2, h3, label, button:not(#lang-toggle), thead th, .ratio-table tbody th, " +
            ".note, .subtitle, a, [role=status], [role=alert], .verdict, .bar-where, .bar-axis, .model-line, summary";
        // Text marked as Korean (the Korean ways of writing an amount) is Korean in either language.
        const shown = [...document.querySelectorAll(selector)]
            .filter((e) => e.offsetParent !== null && !e.closest('body [lang="ko"]'));
        const inputs = [...document.querySelectorAll("input[placeholder]")].map((e) => e.placeholder);
        const withoutKorean = (e) => {
            const copy = e.cloneNode(true);
            copy.querySelectorAll('[lang="ko"]').forEach((k) => k.remove());
            return copy.textContent;
        };
        return [...shown.map((e) => (e.querySelector('[lang="ko"]') ? withoutKorean(e) : e.innerText)), ...inputs];
    }""")


def label_texts(page) -> dict[str, str]:
    return {name: page.locator(f'label[for="f-{name}"] .label-text').inner_text() for name in FIELDS}


# ------------------------------------------------------------------ one company


def test_typed_legacy_example_shows_the_class_probability_and_ratios_the_api_returns(
    page_server, open_page, served_model_dir, legacy_example
):
    url = page_server(served_model_dir)
    page = open_page(url)
    predict_by_keyboard(page, legacy_example["statement"])
    result = page.get_by_test_id("result")
    result.get_by_test_id("result-class").wait_for()

    status, body, _ = post_json(url + "/predict", {"companies": [legacy_example["statement"]]})
    assert status == 200
    expected = body["predictions"][0]
    assert result.get_by_test_id("result-class").inner_text() == expected["class_ko"]
    assert result.get_by_test_id("result-probability").inner_text() == shown_probability(
        expected["probability_unsound"]
    )
    if served_model_dir != DEFAULT_MODEL:  # the legacy service's own model: its write-up's answer
        assert expected["class_ko"] == "건전"
    for name, value in zip(legacy_example["ratio_names"], legacy_example["ratios"]):
        assert result.get_by_test_id(f"feature-{name}").inner_text() == shown_ratio(value, name)


def test_an_invalid_field_shows_the_servers_refusal_beside_that_field_in_the_pages_words(
    page_server, open_page, legacy_model_dir, legacy_example
):
    url = page_server(legacy_model_dir)  # a model that needs every ratio: a zero prior revenue is refused
    page = open_page(url)
    statement = {**legacy_example["statement"], "revenue_prior": 0}
    predict_by_keyboard(page, statement)
    beside = page.get_by_test_id("error-revenue_prior")
    beside.wait_for()

    status, body, _ = post_json(url + "/predict", {"companies": [statement]})
    assert status == 422
    (detail,) = [d for d in body["error"]["details"] if d["field"] == "revenue_prior"]
    assert detail["problem"].startswith("must be greater than 0 to compute revenue_growth_pct")
    assert beside.inner_text().startswith("0보다 커야 합니다(매출액증가율")
    assert not re.search("[A-Za-z]", beside.inner_text())  # no API words in the Korean page
    assert page.get_by_test_id("form-message").inner_text() == "표시된 칸을 고쳐 주세요."
    page.locator("#lang-toggle").click()
    assert beside.inner_text().startswith("must be greater than 0 to compute Revenue growth (%)")
    assert page.locator('input[name="revenue_prior"]').get_attribute("aria-invalid") == "true"
    assert page.get_by_test_id("result").get_by_test_id("result-class").count() == 0


def recording_requests(page) -> list[str]:
    """The URLs of the POST /predict requests the page makes from now on."""
    predictions = []
    page.on("request", lambda r: predictions.append(r.url) if r.url.endswith("/predict") else None)
    return predictions


def test_for_a_model_that_needs_every_field_blank_and_unreadable_ones_are_named_without_asking_the_server(
    page_server, open_page, legacy_model_dir
):
    page = open_page(page_server(legacy_model_dir))
    predictions = recording_requests(page)
    assert page.get_by_test_id("unknown-note").is_hidden()
    page.get_by_role("button", name="예시 값 채우기").click()
    page.locator('input[name="total_equity"]').fill("")
    page.locator('input[name="net_income"]').fill("N/A")
    page.get_by_role("button", name="예측", exact=True).click()

    assert page.get_by_test_id("error-total_equity").inner_text() == "값을 입력하세요."
    assert "금액으로 읽을 수 없습니다" in page.get_by_test_id("error-net_income").inner_text()
    assert page.evaluate("document.activeElement.name") == "total_equity"
    assert predictions == []


def test_text_that_is_not_a_number_is_refused_even_where_a_blank_would_be_unknown(page_server, open_page):
    page = open_page(page_server(DEFAULT_MODEL))
    predictions = recording_requests(page)
    page.get_by_role("button", name="예시 값 채우기").click()
    page.locator('input[name="total_equity"]').fill("")
    page.locator('input[name="net_income"]').fill("N/A")
    page.get_by_role("button", name="예측", exact=True).click()

    assert "금액으로 읽을 수 없습니다" in page.get_by_test_id("error-net_income").inner_text()
    assert page.get_by_test_id("error-total_equity").is_hidden()
    assert page.evaluate("document.activeElement.name") == "net_income"
    assert predictions == []


def expected_label(facts: dict, ratio: str, lang: str = "ko") -> str:
    """A ratio's label as GET /model gives it (the page's own lookup order)."""
    return (facts.get("ratio_labels", {}).get(ratio) or facts["feature_labels"][ratio])[lang]


def test_a_company_without_its_prior_year_is_scored_with_the_unknown_ratios_named_in_korean(page_server, open_page):
    url = page_server(DEFAULT_MODEL)
    page = open_page(url)
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/predict") else None)
    note = page.get_by_test_id("unknown-note")
    assert note.inner_text() == "모르는 항목은 비워 두세요. 비워 둔 항목은 모르는 값으로 처리됩니다."
    page.get_by_role("button", name="예시 값 채우기").click()
    prior = [name for name in FIELDS if name.endswith("_prior")]
    for name in prior:
        page.locator(f'input[name="{name}"]').fill("")
    page.get_by_role("button", name="예측", exact=True).click()
    result = page.get_by_test_id("result")
    result.get_by_test_id("result-class").wait_for()

    (body,) = sent
    (company,) = body["companies"]
    assert [name for name in FIELDS if company[name] is None] == prior
    status, answer, _ = post_json(url + "/predict", body)
    assert status == 200
    expected = answer["predictions"][0]
    assert result.get_by_test_id("result-probability").inner_text() == shown_probability(
        expected["probability_unsound"]
    )
    (unknown,) = [w for w in expected["warnings"] if w["code"] == "unknown_inputs"]
    facts = json.loads(urllib.request.urlopen(url + "/model").read())
    shown = result.get_by_test_id("warnings").locator('[data-code="unknown_inputs"]').inner_text()
    assert shown == (
        "다음 재무비율은 구할 수 없어(비워 둔 항목, 0인 분모 등) 모르는 값으로 두고 예측했습니다: "
        + ", ".join(expected_label(facts, name) for name in unknown["fields"])
    )
    assert "revenue_growth_pct" in unknown["fields"]
    growth = result.locator(".feature").filter(has=page.get_by_test_id("feature-revenue_growth_pct"))
    assert growth.get_by_test_id("feature-revenue_growth_pct").inner_text() == "—"
    assert growth.get_by_test_id("unknown").inner_text().startswith("알 수 없음")
    assert growth.locator(".bar").count() == 0
    page.locator("#lang-toggle").click()
    assert (
        result.get_by_test_id("warnings")
        .locator('[data-code="unknown_inputs"]')
        .inner_text()
        .endswith(", ".join(expected_label(facts, name, "en") for name in unknown["fields"]))
    )
    assert note.inner_text() == "Leave a field blank if you do not know it: fields left blank are treated as unknown."


def test_a_form_left_all_blank_is_refused_on_the_page(page_server, open_page):
    page = open_page(page_server(DEFAULT_MODEL))
    predictions = recording_requests(page)
    page.get_by_role("button", name="예측", exact=True).click()
    message = page.get_by_test_id("form-message")
    assert message.inner_text() == "값을 하나 이상 입력하세요."
    assert message.get_attribute("data-state") == "error"
    assert page.evaluate("document.activeElement.name") == FIELDS[0]
    assert predictions == []


AMOUNTS_READ = [
    # as typed, what is read: a plain number in the unit chosen (won), or won for a text naming its unit
    ("1,234,567", {"value": 1234567, "inWon": False}),
    (" 1 234 567 ", {"value": 1234567, "inWon": False}),
    ("(1,234)", {"value": -1234, "inWon": False}),
    ("-1,234.5", {"value": -1234.5, "inWon": False}),
    ("\u22125", {"value": -5, "inWon": False}),
    ("１，２３４", {"value": 1234, "inWon": False}),
    ("₩12,000", {"value": 12000, "inWon": False}),
    ("+7", {"value": 7, "inWon": False}),
    ("0", {"value": 0, "inWon": False}),
    ("1e3", {"value": 1000, "inWon": False}),
    # DART's and Excel's Korean ways
    ("△1,234", {"value": -1234, "inWon": False}),
    ("▲1,234", {"value": -1234, "inWon": False}),
    ("-", {"value": 0, "inWon": False}),
    ("1억", {"value": 100_000_000, "inWon": True}),
    ("1조 2,345억", {"value": 1_234_500_000_000, "inWon": True}),
    ("3억 5천만", {"value": 350_000_000, "inWon": True}),
    ("1억 2천만원", {"value": 120_000_000, "inWon": True}),
    ("12만", {"value": 120_000, "inWon": True}),
    ("1.5억", {"value": 150_000_000, "inWon": True}),
    ("△2조", {"value": -2_000_000_000_000, "inWon": True}),
    ("1,234백만원", {"value": 1_234_000_000, "inWon": True}),
    ("5천원", {"value": 5_000, "inWon": True}),
    ("12억원", {"value": 1_200_000_000, "inWon": True}),
    ("12,000원", {"value": 12000, "inWon": True}),
    # refused
    ("", {"problem": "empty"}),
    ("abc", {"problem": "not_a_number"}),
    ("N/A", {"problem": "not_a_number"}),
    ("1,23", {"problem": "not_a_number"}),
    ("(-5)", {"problem": "not_a_number"}),
    ("1.2.3", {"problem": "not_a_number"}),
    ("--3", {"problem": "not_a_number"}),
    ("억억", {"problem": "not_a_number"}),
    ("백만원", {"problem": "not_a_number"}),
]


def test_amounts_are_read_the_way_korean_statements_write_them(page_server, open_page, served_model_dir):
    page = open_page(page_server(served_model_dir), wait_ready=False)
    read = page.evaluate(
        """async (cases) => {
        const {parseAmount} = await import("./amounts.js");
        return cases.map((text) => parseAmount(text));
    }""",
        [text for text, _ in AMOUNTS_READ],
    )
    assert dict(zip((text for text, _ in AMOUNTS_READ), read)) == dict(AMOUNTS_READ)


def test_a_plain_number_is_read_in_the_unit_chosen_and_one_with_its_own_unit_in_that(
    page_server, open_page, served_model_dir
):
    page = open_page(page_server(served_model_dir), wait_ready=False)
    read = page.evaluate(
        """async () => {
        const {parseAmount} = await import("./amounts.js");
        return ["1,234", "△1,234", "1억", "1,234백만원", "-"].map((text) => parseAmount(text, 1e6).value);
    }"""
    )
    assert read == [1_234_000_000, -1_234_000_000, 100_000_000, 1_234_000_000, 0]


def test_csv_reader_handles_quotes_bom_crlf_and_semicolons(page_server, open_page, served_model_dir):
    page = open_page(page_server(served_model_dir), wait_ready=False)
    texts = {
        "quoted": '\ufeffname,revenue\r\n"A, Inc.","1,234"\r\n\r\n"say ""hi""",(5)\r\n',
        "multiline": 'a,b\n"x\ny",2\nz,3',
        "semicolons": 'a;b\n"1,5";2',
    }
    parsed = page.evaluate(
        """async (texts) => {
        const {parseCsv} = await import("./csv.js");
        const result = {};
        for (const [name, text] of Object.entries(texts)) {
            result[name] = parseCsv(text).map((r) => [r.line, ...r.cells]);
        }
        try { parseCsv('a,b\\n"1,2') } catch (e) { result.unclosed = [e.code, e.line] }
        return result;
    }""",
        texts,
    )
    assert parsed["quoted"] == [[1, "name", "revenue"], [2, "A, Inc.", "1,234"], [4, 'say "hi"', "(5)"]]
    assert parsed["multiline"] == [[1, "a", "b"], [2, "x\ny", "2"], [4, "z", "3"]]
    assert parsed["semicolons"] == [[1, "a", "b"], [2, "1,5", "2"]]
    assert parsed["unclosed"] == ["unclosed_quote", 2]


def test_page_labels_are_the_api_statement_labels(page_server, open_page, served_model_dir):
    page = open_page(page_server(served_model_dir))
    assert label_texts(page) == {name: label["ko"] for name, label in STATEMENT_FIELDS.items()}
    for name in FIELDS:
        assert page.locator(f"#f-{name}").get_attribute("name") == name
    page.locator("#lang-toggle").click()
    assert label_texts(page) == {name: label["en"] for name, label in STATEMENT_FIELDS.items()}


def model_facts_changed(change):
    """A page hook: GET /model answers the real server's facts, altered by change(facts)."""

    def handle(route):
        response = route.fetch()
        facts = response.json()
        change(facts)
        route.fulfill(response=response, json=facts)

    return lambda page: page.route("**/model", handle)


def test_the_labels_are_in_the_page_before_get_model_answers_and_if_it_never_does(
    page_server, open_page, served_model_dir
):
    held = []
    page = open_page(
        page_server(served_model_dir), wait_ready=False, before=lambda p: p.route("**/model", lambda r: held.append(r))
    )
    page.wait_for_function("() => document.querySelector('#fill-example') !== null")
    assert label_texts(page) == {name: label["ko"] for name, label in STATEMENT_FIELDS.items()}
    page.locator("#lang-toggle").click()
    assert label_texts(page) == {name: label["en"] for name, label in STATEMENT_FIELDS.items()}
    assert held  # GET /model was asked and is still unanswered
    failed = open_page(
        page_server(served_model_dir), wait_ready=False, before=lambda p: p.route("**/model", lambda r: r.abort())
    )
    failed.locator('[data-testid="service-status"][data-state="error"]').wait_for()
    assert label_texts(failed) == {name: label["ko"] for name, label in STATEMENT_FIELDS.items()}


def test_with_get_model_held_a_blank_field_waits_for_it_and_is_then_sent_as_unknown(page_server, open_page):
    held = []
    page = open_page(
        page_server(DEFAULT_MODEL), wait_ready=False, before=lambda p: p.route("**/model", lambda r: held.append(r))
    )
    sent = recording_requests(page)
    page.locator("#fill-example").wait_for(state="attached")
    page.wait_for_function("() => !document.querySelector('#fill-example').disabled")
    page.locator("#fill-example").click()
    page.locator('input[name="revenue_prior"]').fill("")
    page.locator("#submit").click()
    message = page.get_by_test_id("form-message")
    assert message.inner_text() == "서비스의 모델 정보를 기다리는 중… 받는 대로 예측합니다."
    assert page.get_by_test_id("error-revenue_prior").is_hidden() and sent == []
    held[0].continue_()
    page.get_by_test_id("result-class").wait_for()
    assert len(sent) == 1 and page.get_by_test_id("error-revenue_prior").is_hidden()


def test_csv_headers_may_be_the_korean_labels_or_darts_account_names(
    page_server, open_page, served_model_dir, legacy_example, tmp_path
):
    dart_names = [
        "자산총계",
        "전기 자산총계",
        "부채총계",
        "자본총계",
        "매출액",
        "전기 매출액",
        "영업이익(손실)",
        "전기영업이익",
        "당기순이익",
    ]
    english = [label["en"] for label in STATEMENT_FIELDS.values()]
    for headers in (dart_names, english):
        path = tmp_path / "headers.csv"
        path.write_text(
            "\n".join(
                [
                    ",".join(["회사명", *headers]),
                    ",".join(["A", *(f'"{legacy_example["statement"][f]:,}"' for f in FIELDS)]),
                ]
            ),
            encoding="utf-8",
        )
        page = open_page(page_server(served_model_dir))
        upload(page, path)
        rows = page.get_by_test_id("batch-table").locator("tbody tr")
        assert rows.count() == 1 and rows.nth(0).locator(".notes").inner_text() == ""
        assert "무시한 열" not in page.get_by_test_id("batch-status").inner_text()


def form_values(page) -> dict[str, str]:
    return {name: page.locator(f'input[name="{name}"]').input_value() for name in FIELDS}


def example_rows(text: str) -> list[dict[str, float]]:
    """The test's own reading of an example CSV: its companies by their Korean headers."""
    header, *rows = csv.reader(io.StringIO(text))
    by_label = {label["ko"]: name for name, label in STATEMENT_FIELDS.items()}
    return [{by_label[h]: read_amount(v) for h, v in zip(header, row) if h in by_label} for row in rows]


def test_the_example_button_fills_the_first_company_of_the_example_csv(page_server, open_page, served_model_dir):
    url = page_server(served_model_dir)
    page = open_page(url)
    page.get_by_role("button", name="예시 값 채우기").click()
    (first, *_) = example_rows(EXAMPLE_CSV.read_text(encoding="utf-8"))
    assert form_values(page) == {name: f"{first[name]:,.0f}" for name in FIELDS}

    header = EXAMPLE_CSV.read_text(encoding="utf-8").splitlines()[0]
    changed = "\n".join([header, ",".join(["Changed", *(f'"{(i + 1) * 1000:,}"' for i in range(len(FIELDS)))])])
    page = open_page(
        url,
        before=lambda p: p.route(
            "**/example-companies.csv",
            lambda route: route.fulfill(status=200, content_type="text/csv; charset=utf-8", body=changed),
        ),
    )
    page.get_by_role("button", name="예시 값 채우기").click()
    (first,) = example_rows(changed)
    assert form_values(page) == {name: f"{first[name]:,.0f}" for name in FIELDS}


def test_the_class_is_shown_in_the_answers_own_words(page_server, open_page, served_model_dir):
    def renamed(route):
        response = route.fetch()
        answer = response.json()
        answer["predictions"][0].update({"class": "middling", "class_ko": "중간"})
        route.fulfill(response=response, json=answer)

    page = open_page(page_server(served_model_dir), before=lambda p: p.route("**/predict", renamed))
    page.get_by_role("button", name="예시 값 채우기").click()
    page.get_by_role("button", name="예측", exact=True).click()
    shown = page.get_by_test_id("result").get_by_test_id("result-class")
    shown.wait_for()
    assert shown.inner_text() == "중간"
    page.locator("#lang-toggle").click()
    assert shown.inner_text() == "Middling"


KNOWN_DISTRIBUTION = {
    "revenue_growth_pct": [-60.0, -5.0, 4.0, 20.0, 200.0],
    "total_asset_growth_pct": [-40.0, -3.0, 5.0, 15.0, 120.0],
    "operating_margin_pct": [-80.0, 0.0, 3.5, 8.0, 30.0],
    "equity_ratio_pct": [-20.0, 25.0, 45.0, 65.0, 95.0],
    "total_asset_turnover": [0.05, 0.5, 0.9, 1.3, 3.0],
}
KNOWN_Q = [0.01, 0.25, 0.5, 0.75, 0.99]


def give_known_distribution(facts: dict) -> None:
    facts["features"] = list(KNOWN_DISTRIBUTION)
    facts["feature_quantiles"] = {name: {"q": KNOWN_Q, "values": values} for name, values in KNOWN_DISTRIBUTION.items()}
    facts["training_data"] = {"description": "a distribution the test made up"}
    facts["limits"] = ["a test limit", "another test limit"]


def test_bars_place_the_company_at_its_percentile_of_the_training_population(
    page_server, open_page, served_model_dir, legacy_example
):
    page = open_page(page_server(served_model_dir), before=model_facts_changed(give_known_distribution))
    page.locator("#lang-toggle").click()
    page.get_by_role("button", name="Fill in an example").click()
    page.get_by_role("button", name="Predict", exact=True).click()
    page.get_by_test_id("result-class").wait_for()

    items = page.locator(".feature")
    assert items.count() == len(KNOWN_DISTRIBUTION)
    for i, name in enumerate(legacy_example["ratio_names"]):
        percent = np.interp(legacy_example["ratios"][i], KNOWN_DISTRIBUTION[name], np.array(KNOWN_Q) * 100)
        assert items.nth(i).get_by_test_id("percentile").inner_text() == (
            f"higher than {round(percent)}% of training companies"
        )
        marker_left = items.nth(i).locator(".bar-marker").evaluate("e => parseFloat(e.style.left)")
        assert marker_left == pytest.approx(percent, abs=0.01)
    assert "a distribution the test made up" in page.get_by_test_id("model-line").inner_text()
    limits = page.get_by_test_id("model-limits")
    limits.locator("summary").click()  # folded under the line until asked for
    assert limits.locator("li").all_inner_texts() == ["a test limit", "another test limit"]


def test_the_bundled_models_limits_and_training_data_are_shown_in_the_pages_language(
    page_server, open_page, served_model_dir
):
    url = page_server(served_model_dir)
    with urllib.request.urlopen(url + "/model", timeout=10) as response:
        facts = json.loads(response.read())
    page = open_page(url)
    page.get_by_role("button", name="예시 값 채우기").click()
    page.get_by_role("button", name="예측", exact=True).click()
    page.get_by_test_id("result-class").wait_for()
    for lang in ("ko", "en"):
        assert facts["training_data"]["description"][lang] in page.get_by_test_id("model-line").inner_text()
        limits = page.get_by_test_id("model-limits")
        limits.locator("summary").click()
        assert limits.locator("li").all_inner_texts() == [limit[lang] for limit in facts["limits"]]
        page.locator("#lang-toggle").click()


def test_a_model_without_a_recorded_distribution_shows_its_ratios_without_bars(
    page_server, open_page, served_model_dir, legacy_example
):
    url = page_server(served_model_dir)
    page = open_page(url, before=model_facts_changed(lambda facts: facts.update(feature_quantiles={})))
    page.get_by_role("button", name="예시 값 채우기").click()
    page.get_by_role("button", name="예측", exact=True).click()
    result = page.get_by_test_id("result")
    result.get_by_test_id("result-class").wait_for()
    assert result.locator(".feature").count() == result.locator("[data-testid^=feature-]").count() > 0
    assert result.locator(".bar").count() == 0
    assert "분포가 기록되어 있지 않아" in result.inner_text()
    _, body, _ = post_json(url + "/predict", {"companies": [legacy_example["statement"]]})
    debt_ratio = body["predictions"][0]["ratios"]["debt_ratio_pct"]
    features = json.loads((served_model_dir / "manifest.json").read_text())["features"]
    shown = (
        result.get_by_test_id("feature-debt_ratio_pct")
        if "debt_ratio_pct" in features  # a model input
        else result.get_by_test_id("other-ratios").locator('[data-ratio="debt_ratio_pct"] td')
    )
    assert shown.inner_text() == shown_ratio(debt_ratio, "debt_ratio_pct")


def test_a_balance_mismatch_warning_is_shown_with_the_result(page_server, open_page, served_model_dir, legacy_example):
    page = open_page(page_server(served_model_dir))
    statement = {**legacy_example["statement"], "total_equity": legacy_example["statement"]["total_equity"] // 2}
    predict_by_keyboard(page, statement)
    warnings = page.get_by_test_id("warnings")
    warnings.wait_for()
    assert warnings.locator('[data-code="balance_mismatch"]').inner_text().startswith("자본총계가 자산총계")


def test_the_contributions_are_drawn_as_signed_bars_largest_first_with_their_numbers(
    page_server, open_page, legacy_example
):
    url = page_server(DEFAULT_MODEL)
    page = open_page(url)
    predict_by_keyboard(page, legacy_example["statement"])
    chart = page.get_by_test_id("contributions")
    chart.wait_for()
    _, body, _ = post_json(url + "/predict", {"companies": [legacy_example["statement"]]})
    explanation = body["predictions"][0]["explanation"]
    groups = explanation.get("groups")
    drawn = chart.get_by_test_id("chart-groups" if groups else "chart-ratios").locator("li")
    expected = sorted((groups or explanation["contributions"]).items(), key=lambda kv: -kv[1])
    assert drawn.evaluate_all("items => items.map((i) => i.dataset.name)") == [name for name, _ in expected]
    for i, (_, value) in enumerate(expected):
        item = drawn.nth(i)
        # its number in words, for a screen reader and a printout; the bar itself is hidden from them
        word = "위험 +" if value > 0 else "위험 −" if value < 0 else "영향 없음"
        assert item.locator(".chart-value").inner_text().startswith(word)
        if value:
            assert item.locator(".chart-value").inner_text().endswith(f"{abs(value):.2f}")
        assert item.locator(".chart-track").get_attribute("aria-hidden") == "true"
        bar = item.locator(".chart-bar").evaluate("b => [parseFloat(b.style.left), parseFloat(b.style.width)]")
        assert (bar[0] >= 50) == (value >= 0)  # right of the axis raises, left lowers
    widths = drawn.locator(".chart-bar").evaluate_all("bars => bars.map((b) => parseFloat(b.style.width))")
    largest = max(abs(v) for _, v in expected)
    assert widths == pytest.approx([abs(v) / largest * 50 for _, v in expected], abs=1e-3)  # CSS keeps 6 digits


def server_meaning(prediction: dict) -> None:
    """The keys the meaning workstream adds to a scored row (interfaces.md), as a page hook gives them
    to the page before the server does: a grade, a red flag and reasons phrased by the server."""
    prediction["grade"] = {"grade": 4, "code": "high", "ko": "높음", "en": "High"}
    prediction["flags"] = [{"code": "capital_erosion", "ko": "자본잠식", "en": "Capital erosion", "rule": "equity < 0"}]
    prediction["reasons"] = [
        {
            "name": "leverage",
            "contribution": 1.2,
            "direction": "raised",
            "ko": "부채·자본 구성이 위험을 높였습니다.",
            "en": "Leverage raised the risk.",
        },
        {
            "name": "roa_pct",
            "contribution": -0.3,
            "direction": "lowered",
            "ko": "총자산순이익률(ROA)이 위험을 낮췄습니다.",
            "en": "Return on assets (%) lowered the risk.",
        },
    ]


def with_meaning(answers: list):
    """A page hook: POST /predict's answers with the meaning keys (the server's own once it gives
    them), each answer as the page got it appended to `answers`."""

    def handle(route):
        response = route.fetch()
        answer = response.json()
        for prediction in answer["predictions"]:
            if "error" not in prediction and "grade" not in prediction:  # until the server gives them itself
                server_meaning(prediction)
        answer.setdefault(
            "event",
            {"code": "test", "ko": "1년 안에 파산을 신청할 확률", "en": "the probability of filing within a year"},
        )
        answers.append(answer)
        route.fulfill(response=response, json=answer)

    return lambda page: page.route("**/predict", handle)


def test_the_grade_flags_and_reasons_are_the_servers_words_in_both_languages(
    page_server, open_page, served_model_dir, legacy_example
):
    answers = []
    page = open_page(page_server(served_model_dir), before=with_meaning(answers))
    statement = {**legacy_example["statement"], "total_equity": -1_000_000_000}  # capital erosion, if flagged
    predict_by_keyboard(page, statement)
    result = page.get_by_test_id("result")
    result.get_by_test_id("verdict").wait_for()
    (answer,) = answers
    (prediction,) = answer["predictions"]
    grade = result.get_by_test_id("result-grade")
    number = prediction["grade"]["grade"]
    assert grade.inner_text() == (f"위험 등급 {number}/5 · " if number else "") + prediction["grade"]["ko"]
    assert result.get_by_test_id("verdict").locator("p").first.get_attribute("data-testid") == "result-grade"
    reasons = result.get_by_test_id("reasons").locator("li")
    assert reasons.all_inner_texts() == [reason["ko"] for reason in prediction["reasons"]]
    flags = result.get_by_test_id("flags").locator("li") if prediction["flags"] else None
    if flags is not None:
        assert flags.all_inner_texts() == [flag["ko"] for flag in prediction["flags"]]
    assert result.get_by_test_id("event").inner_text() == f"확률의 뜻: {answer['event']['ko']}"
    page.locator("#lang-toggle").click()
    assert grade.inner_text() == (f"Risk grade {number}/5 · " if number else "") + prediction["grade"]["en"]
    assert reasons.all_inner_texts() == [reason["en"] for reason in prediction["reasons"]]
    if flags is not None:
        assert flags.all_inner_texts() == [flag["en"] for flag in prediction["flags"]]
    assert result.get_by_test_id("event").inner_text() == f"What the probability means: {answer['event']['en']}"


def test_the_button_says_the_request_is_under_way_until_the_answer_comes(page_server, open_page, served_model_dir):
    held = []
    page = open_page(
        page_server(served_model_dir), before=lambda p: p.route("**/predict", lambda route: held.append(route))
    )
    page.get_by_role("button", name="예시 값 채우기").click()
    submit = page.locator("#submit")
    with page.expect_request("**/predict"):
        submit.click()
    assert submit.is_disabled()
    assert submit.inner_text() == "예측하는 중…" and submit.get_attribute("aria-busy") == "true"
    assert len(held) == 1
    held[0].continue_()
    page.get_by_test_id("result-class").wait_for()
    assert submit.is_enabled() and submit.inner_text() == "예측"


# ------------------------------------------------------------------ the service is away or refuses


def test_an_unreachable_service_is_said_to_be_unreachable(page_server, open_page, served_model_dir):
    page = open_page(
        page_server(served_model_dir),
        wait_ready=False,
        before=lambda p: p.route(re.compile(r".*/(model|predict)$"), lambda r: r.abort()),
    )
    status = page.locator('[data-testid="service-status"][data-state="error"]')
    status.wait_for()
    assert "서비스에 연결할 수 없습니다" in status.inner_text()
    page.get_by_role("button", name="예시 값 채우기").click()
    page.get_by_role("button", name="예측", exact=True).click()
    message = page.get_by_test_id("form-message")
    message.wait_for()
    assert "서비스에 연결할 수 없습니다" in message.inner_text()


def test_an_error_answer_is_said_in_the_pages_words_by_its_code_with_a_retry(page_server, open_page, served_model_dir):
    refusal = json.dumps(
        {"error": {"code": "model_unavailable", "message": "the model is being replaced", "details": []}}
    )
    answers = []

    def predict(route):
        answers.append(route)
        if len(answers) == 1:
            route.fulfill(status=503, content_type="application/json", body=refusal)
        else:
            route.continue_()

    page = open_page(page_server(served_model_dir), before=lambda p: p.route("**/predict", predict))
    page.get_by_role("button", name="예시 값 채우기").click()
    page.get_by_role("button", name="예측", exact=True).click()
    message = page.get_by_test_id("form-message")
    message.get_by_test_id("retry").wait_for()
    assert message.inner_text().startswith("서버가 지금 모델을 쓸 수 없습니다. 잠시 뒤 다시 시도하세요.")
    assert "the model is being replaced" not in message.inner_text()
    page.locator("#lang-toggle").click()
    assert message.inner_text().startswith("The server cannot use its model right now.")
    message.get_by_test_id("retry").click()
    page.get_by_test_id("result-class").wait_for()
    assert len(answers) == 2 and message.is_hidden()


# ------------------------------------------------------------------ many companies


def upload(page, path: Path) -> None:
    page.locator("#batch-file").set_input_files(str(path))
    page.locator("#batch-submit").click()
    page.get_by_test_id("batch-table").wait_for()


def test_the_example_csv_gives_three_results_and_a_downloadable_csv_of_them(page_server, open_page, served_model_dir):
    url = page_server(served_model_dir)
    page = open_page(url)
    upload(page, EXAMPLE_CSV)
    assert page.get_by_test_id("batch-table").locator("tbody tr").count() == 3

    with page.expect_download() as download:
        page.get_by_test_id("batch-download").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3

    source = list(csv.reader(io.StringIO(EXAMPLE_CSV.read_text(encoding="utf-8"))))
    header = {label["ko"]: name for name, label in STATEMENT_FIELDS.items()}
    companies = [{header[h]: read_amount(v) for h, v in zip(source[0], row) if h in header} for row in source[1:]]
    _, body, _ = post_json(url + "/predict", {"companies": companies})
    for row, expected, original, company in zip(rows, body["predictions"], source[1:], companies):
        assert row["회사"] == original[0]
        assert row["판정"] == expected["class_ko"]
        assert row["비건전 확률(%)"] == f"{round(expected['probability_unsound'] * 100, 1):g}"
        assert row["자기자본비율(%)"] == f"{round(expected['ratios']['equity_ratio_pct'], 2):g}"
        assert {name: float(row[label["ko"]]) for name, label in STATEMENT_FIELDS.items()} == company


def test_csv_rows_that_cannot_be_scored_carry_their_own_errors(
    page_server, open_page, legacy_model_dir, legacy_example, tmp_path
):
    statement = legacy_example["statement"]
    lines = [",".join(["id", *FIELDS])]
    for name, changes in [
        ("good", {}),
        ("zero prior revenue", {"revenue_prior": 0}),
        ("typo", {"revenue": "12x"}),
        ("blank", {"net_income": ""}),
    ]:
        values = {**statement, **changes}
        lines.append(
            ",".join([name] + [f'"{values[f]:,}"' if isinstance(values[f], int) else values[f] for f in FIELDS])
        )
    path = tmp_path / "companies.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())

    page = open_page(page_server(legacy_model_dir))  # a model that needs every ratio
    upload(page, path)
    rows = page.get_by_test_id("batch-table").locator("tbody tr")
    assert rows.count() == 4
    assert rows.nth(0).locator(".notes").inner_text() == ""
    assert rows.nth(0).locator(".class-cell").inner_text() in ("건전", "비건전")
    assert rows.nth(1).locator(".notes").inner_text().startswith("전기 수익(매출액): 0보다 커야 합니다(매출액증가율")
    assert rows.nth(2).locator(".notes").inner_text().startswith("당기 수익(매출액): 금액으로 읽을 수 없습니다")
    assert rows.nth(3).locator(".notes").inner_text() == "당기순이익: 값을 입력하세요."
    assert page.get_by_test_id("batch-unknown-note").is_hidden()
    assert "4개 기업 중 1개 예측, 3개 오류" in page.get_by_test_id("batch-status").inner_text()


def test_a_csv_with_blank_cells_is_scored_with_them_unknown_and_a_row_with_none_is_not_sent(
    page_server, open_page, legacy_example, tmp_path
):
    statement = legacy_example["statement"]
    rows_in = [("no prior year", {f: ("" if f.endswith("_prior") else statement[f]) for f in FIELDS})]
    rows_in += [("full", statement), ("nothing", dict.fromkeys(FIELDS, ""))]
    path = tmp_path / "blanks.csv"
    path.write_text(
        "\n".join([",".join(["name", *FIELDS])] + [",".join([n, *(str(v[f]) for f in FIELDS)]) for n, v in rows_in]),
        encoding="utf-8",
    )
    url = page_server(DEFAULT_MODEL)
    sent = []
    page = open_page(
        url,
        before=lambda p: p.on(
            "request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/predict") else None
        ),
    )
    assert page.get_by_test_id("batch-unknown-note").is_visible()
    upload(page, path)
    rows = page.get_by_test_id("batch-table").locator("tbody tr")
    assert rows.count() == 3
    (body,) = sent
    assert [c["id"] for c in body["companies"]] == ["no prior year", "full"]  # the empty row is not sent
    assert body["companies"][0]["revenue_prior"] is None
    _, answer, _ = post_json(url + "/predict", body)
    blank, full = answer["predictions"]
    assert rows.nth(0).locator(".class-cell").inner_text() == blank["class_ko"]
    assert rows.nth(0).locator(".notes").inner_text().startswith("다음 재무비율은 구할 수 없어")
    assert rows.nth(1).locator(".notes").inner_text() == ""
    assert rows.nth(2).locator(".notes").inner_text() == "값을 하나 이상 입력하세요."
    assert "3개 기업 중 2개 예측, 1개 오류" in page.get_by_test_id("batch-status").inner_text()

    with page.expect_download() as download:
        page.get_by_test_id("batch-download").click()
    shown = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [row["회사"] for row in shown] == ["no prior year", "full", "nothing"]
    assert shown[0]["비건전 확률(%)"] == f"{round(blank['probability_unsound'] * 100, 1):g}"
    assert shown[0]["매출액증가율(%)"] == "" and shown[0]["주의"].startswith("다음 재무비율은 구할 수 없어")
    assert shown[0]["전기 자산총계"] == ""  # the inputs as sent: blank, unknown
    assert float(shown[1]["매출액증가율(%)"]) == pytest.approx(full["ratios"]["revenue_growth_pct"], abs=0.005)
    assert shown[2]["비건전 확률(%)"] == "" and shown[2]["오류"] == "값을 하나 이상 입력하세요."


def test_a_csv_missing_a_column_is_refused_naming_it(page_server, open_page, served_model_dir, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("name,total_assets\nA,100\n", encoding="utf-8")
    page = open_page(page_server(served_model_dir))
    page.locator("#batch-file").set_input_files(str(path))
    page.locator("#batch-submit").click()
    status = page.locator('[data-testid="batch-status"][data-state="error"]')
    status.wait_for()
    assert "전기 자산총계" in status.inner_text() and "당기순이익" in status.inner_text()
    assert "total_assets_prior" not in status.inner_text()


# ------------------------------------------------------------------ language, layout, screenshots


def test_the_language_switch_changes_every_label_and_is_remembered(page_server, open_page, served_model_dir):
    page = open_page(page_server(served_model_dir), before=model_facts_changed(give_known_distribution))
    page.get_by_role("button", name="예시 값 채우기").click()
    page.get_by_role("button", name="예측", exact=True).click()
    page.get_by_test_id("result-class").wait_for()
    upload(page, EXAMPLE_CSV)
    assert page.locator(".bar").count() > 0
    assert all(HANGUL.search(text) for text in [page.title(), *label_texts(page).values()])

    page.locator("#lang-toggle").click()
    korean_left = [text for text in visible_words(page) if HANGUL.search(text)]
    assert korean_left == []
    assert page.get_by_test_id("result-class").inner_text() in ("Sound", "Unsound")
    assert page.evaluate("document.documentElement.lang") == "en"

    page.reload()
    page.locator('[data-testid="service-status"][data-state="ok"]').wait_for()
    assert page.locator("#submit").inner_text() == "Predict"
    assert not any(HANGUL.search(text) for text in label_texts(page).values())

    page.locator("#lang-toggle").click()
    assert label_texts(page) == {name: label["ko"] for name, label in STATEMENT_FIELDS.items()}
    assert page.evaluate("document.documentElement.lang") == "ko"


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_page_fits_its_width_with_a_result_and_a_batch(
    page_server, open_page, served_model_dir, screenshot_dir, lang, viewport
):
    page = open_page(page_server(served_model_dir), viewport=viewport)
    if lang == "en":
        page.locator("#lang-toggle").click()
    page.locator("#fill-example").click()
    page.locator("#submit").click()
    page.get_by_test_id("result-class").wait_for()
    upload(page, EXAMPLE_CSV)
    path = screenshot_dir / f"page-{lang}-{viewport['width']}x{viewport['height']}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


# ------------------------------------------------------------------ careless input: units, long files, odd names


def write_companies(path: Path, statement: dict, names: list[str]) -> Path:
    lines = [",".join(["name", *FIELDS])] + [",".join([name, *(str(statement[f]) for f in FIELDS)]) for name in names]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def recording_predictions(sizes: list, held: list):
    """A page hook: every POST /predict's row count goes into `sizes`; the first is held in `held`."""

    def handle(route):
        sizes.append(len(route.request.post_data_json["companies"]))
        if len(sizes) == 1:
            held.append(route)
        else:
            route.continue_()

    return lambda page: page.route("**/predict", handle)


def test_a_1001_row_csv_goes_in_requests_of_the_servers_limit_with_progress(
    page_server, open_page, served_model_dir, legacy_example, tmp_path
):
    path = write_companies(tmp_path / "many.csv", legacy_example["statement"], [f"c{i}" for i in range(1001)])
    sizes, held = [], []
    page = open_page(page_server(served_model_dir), before=recording_predictions(sizes, held))
    page.locator("#batch-file").set_input_files(str(path))
    with page.expect_request("**/predict"):
        page.locator("#batch-submit").click()
    status = page.get_by_test_id("batch-status")
    page.locator('[data-testid="batch-status"][data-state="info"]').wait_for()
    assert status.inner_text() == "예측하는 중… 1001개 기업 중 0개 완료 (요청 1/2, 한 번에 최대 1000개)"
    held[0].continue_()
    page.get_by_test_id("batch-table").wait_for()
    assert sizes == [1000, 1]  # GET /model's max_batch, the server's MAX_BATCH
    assert page.get_by_test_id("batch-table").locator("tbody tr").count() == 100  # a page at a time
    assert page.get_by_test_id("batch-pager").inner_text().count("전체 1001행 중 1–100행") == 1
    assert "1001개 기업 중 1001개 예측, 0개 오류" in status.inner_text()


def test_the_batch_size_is_the_one_the_server_states_and_progress_is_said_in_english(
    page_server, open_page, served_model_dir, legacy_example, tmp_path
):
    path = write_companies(tmp_path / "many.csv", legacy_example["statement"], [f"c{i}" for i in range(450)])
    sizes, held = [], []

    def hooks(page):
        model_facts_changed(lambda facts: facts.update(max_batch=200))(page)
        recording_predictions(sizes, held)(page)

    page = open_page(page_server(served_model_dir), before=hooks)
    page.locator("#lang-toggle").click()
    page.locator("#batch-file").set_input_files(str(path))
    with page.expect_request("**/predict"):
        page.locator("#batch-submit").click()
    page.locator('[data-testid="batch-status"][data-state="info"]').wait_for()
    assert page.get_by_test_id("batch-status").inner_text() == (
        "Predicting… 0 of 450 companies done (request 1 of 3, at most 200 each)"
    )
    held[0].continue_()
    page.get_by_test_id("batch-table").wait_for()
    assert sizes == [200, 200, 50]
    assert "450 of 450 companies predicted, 0 with errors" in page.get_by_test_id("batch-status").inner_text()


def test_a_batch_that_fails_midway_says_where_it_stopped(
    page_server, open_page, served_model_dir, legacy_example, tmp_path
):
    path = write_companies(tmp_path / "many.csv", legacy_example["statement"], [f"c{i}" for i in range(5)])
    refusal = json.dumps(
        {"error": {"code": "model_unavailable", "message": "the model is being replaced", "details": []}}
    )
    answered = []

    def handle(route):
        answered.append(route)
        if len(answered) == 1:
            route.continue_()
        else:
            route.fulfill(status=503, content_type="application/json", body=refusal)

    page = open_page(
        page_server(served_model_dir),
        before=lambda p: (
            model_facts_changed(lambda facts: facts.update(max_batch=2))(p),
            p.route("**/predict", handle),
        ),
    )
    page.locator("#batch-file").set_input_files(str(path))
    page.locator("#batch-submit").click()
    status = page.locator('[data-testid="batch-status"][data-state="error"]')
    status.wait_for()
    assert (
        status.inner_text()
        == "5개 기업 중 2개를 예측한 뒤 멈췄습니다. 서버가 지금 모델을 쓸 수 없습니다. 잠시 뒤 다시 시도하세요."
    )
    assert len(answered) == 2
    # what was answered is shown and offered for download all the same
    notes = page.get_by_test_id("batch-table").locator("tbody tr .notes").all_inner_texts()
    assert notes == ["", ""] + ["요청이 멈춰 이 행은 보내지 못했습니다."] * 3
    with page.expect_download() as download:
        page.get_by_test_id("batch-download").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [bool(row["판정"]) for row in rows] == [True, True, False, False, False]


def test_a_ratio_outside_the_training_range_is_warned_beside_the_answer_in_both_languages(
    page_server, open_page, served_model_dir, legacy_example
):
    page = open_page(page_server(served_model_dir))
    # The balance sheet in 백만원, the income statement in won: turnover near 1.3 million.
    mixed = {**legacy_example["statement"]}
    for name in ("total_assets", "total_assets_prior", "total_liabilities", "total_equity"):
        mixed[name] = round(mixed[name] / 1e6)
    predict_by_keyboard(page, mixed)
    warning = page.get_by_test_id("warnings").locator(
        '[data-code="outside_training_range"][data-field="total_asset_turnover"]'
    )
    warning.wait_for()
    text = warning.inner_text()
    recorded = json.loads((served_model_dir / "manifest.json").read_text())["feature_quantiles"]["total_asset_turnover"]
    low, high = (f"{v:.2f}" for v in (recorded["values"][0], recorded["values"][-1]))
    assert text.startswith("총자산회전율 1,302,") and f"학습 기업 98%가 있는 범위({low}회 ~ {high}회) 밖입니다" in text
    page.locator("#lang-toggle").click()
    assert warning.inner_text().startswith("Total asset turnover (times) is 1,302,")
    assert f"outside the range of 98% of the training companies ({low}× to {high}×)" in warning.inner_text()


def test_names_with_bidirectional_overrides_are_shown_as_written_and_refused(
    page_server, open_page, served_model_dir, legacy_example, tmp_path
):
    path = write_companies(tmp_path / "odd.csv", legacy_example["statement"], ["Acme\u202etxt.exe", "Plain"])
    page = open_page(page_server(served_model_dir))
    upload(page, path)
    rows = page.get_by_test_id("batch-table").locator("tbody tr")
    assert rows.nth(0).locator("th").inner_text() == "Acme[U+202E]txt.exe"
    assert "\u202e" not in page.get_by_test_id("batch-table").inner_text()
    assert rows.nth(0).locator(".notes").inner_text() == (
        "회사명에 보이지 않는 제어 문자나 글자 방향을 바꾸는 문자가 있어 서버가 받지 않았습니다."
    )
    assert rows.nth(1).locator(".class-cell").inner_text() in ("건전", "비건전")


def test_rows_past_the_details_the_server_lists_are_still_marked_refused(
    page_server, open_page, legacy_model_dir, legacy_example, tmp_path
):
    statement = {**legacy_example["statement"], "revenue_prior": 0}  # no row can be scored: one 422
    path = write_companies(tmp_path / "zeros.csv", statement, [f"c{i}" for i in range(60)])
    page = open_page(page_server(legacy_model_dir))  # a model that needs every ratio
    upload(page, path)
    notes = page.get_by_test_id("batch-table").locator("tbody tr .notes")
    assert notes.nth(0).inner_text().startswith("전기 수익(매출액): 0보다 커야 합니다")
    assert notes.nth(59).inner_text() == "서버가 오류가 너무 많아 이 행의 오류를 따로 적지 않았습니다."
    assert "60개 기업 중 0개 예측, 60개 오류" in page.get_by_test_id("batch-status").inner_text()


def test_a_csv_sent_after_a_failed_first_look_at_the_model_still_uses_its_limit(
    page_server, open_page, served_model_dir, legacy_example, tmp_path
):
    path = write_companies(tmp_path / "five.csv", legacy_example["statement"], [f"c{i}" for i in range(5)])
    looks, sizes = [], []

    def model(route):
        looks.append(route)
        if len(looks) == 1:
            route.abort()  # the page's first GET /model fails: it knows no limit yet
        else:
            response = route.fetch()
            route.fulfill(response=response, json={**response.json(), "max_batch": 2})

    def predict(route):
        sizes.append(len(route.request.post_data_json["companies"]))
        route.continue_()

    page = open_page(
        page_server(served_model_dir),
        wait_ready=False,
        before=lambda p: (p.route("**/model", model), p.route("**/predict", predict)),
    )
    page.locator('[data-testid="service-status"][data-state="error"]').wait_for()
    upload(page, path)
    assert sizes == [2, 2, 1]
