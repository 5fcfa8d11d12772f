"""Filling the form from DART, in a real browser against the real function and the local DART
stand-in: search by name, pick with the keyboard, see the form filled and score it."""

from __future__ import annotations

import datetime
import json
import urllib.request

import pytest

import dart_stand_in as stand_in
from helpers import post_json
from soundness.ratios import STATEMENT_FIELDS

pytestmark = [pytest.mark.browser, pytest.mark.server]

FIELDS = list(STATEMENT_FIELDS)


@pytest.fixture
def lookup_url(page_server, served_model_dir, dart_stand_in):
    # A DART timeout longer than the page's waits need, so only the slow company ever times out.
    return page_server(served_model_dir, dart_stand_in.env())


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def search(page, text: str) -> None:
    page.get_by_test_id("company-search").focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.get_by_test_id("company-result").first.wait_for()


def shown_amount(value: int) -> str:
    return f"{value:,}"


def test_a_company_found_by_name_fills_the_form_and_is_scored(lookup_url, open_page):
    page = open_page(lookup_url)
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    search(page, "삼성전자")
    results = page.get_by_test_id("company-result")
    assert results.first.inner_text().startswith("삼성전자")

    page.keyboard.press("ArrowDown")  # from the search box to the first match
    page.keyboard.press("Enter")
    source = page.get_by_test_id("lookup-source")
    source.wait_for()

    expected = get_json(f"{lookup_url}/companies/005930/statements?year={stand_in.YEAR}")
    for name in FIELDS:
        assert page.locator(f'input[name="{name}"]').input_value() == shown_amount(expected["statements"][name])
    assert "연결재무제표" in source.inner_text() and str(stand_in.YEAR) in source.inner_text()
    assert source.locator("a").get_attribute("href") == expected["source"]["url"]

    page.locator("#submit").click()
    result = page.get_by_test_id("result")
    result.get_by_test_id("result-class").wait_for()
    _, answer, _ = post_json(lookup_url + "/predict", {"companies": [expected["statements"]]})
    assert result.get_by_test_id("result-class").inner_text() == answer["predictions"][0]["class_ko"]
    assert f"삼성전자 {stand_in.YEAR}" in result.inner_text()


def test_filled_values_stay_editable_and_an_edited_form_is_no_longer_named_after_the_filing(lookup_url, open_page):
    page = open_page(lookup_url)
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    search(page, "000660")
    page.get_by_test_id("company-result").first.click()
    page.get_by_test_id("lookup-source").wait_for()
    assert "별도재무제표" in page.get_by_test_id("lookup-source").inner_text()
    page.locator('input[name="net_income"]').fill("1,000")
    page.locator("#submit").click()
    page.get_by_test_id("result-class").wait_for()
    assert "SK하이닉스" not in page.get_by_test_id("result").inner_text()


def test_a_year_without_a_filing_says_so(lookup_url, open_page):
    page = open_page(lookup_url)
    latest = datetime.date.today().year - 1
    assert page.get_by_test_id("lookup-year").input_value() == ""  # the latest with a filing: the API finds it
    page.get_by_test_id("lookup-year").select_option(str(latest))
    search(page, "삼성전자")
    page.get_by_test_id("company-result").first.click()
    status = page.locator('[data-testid="lookup-status"][data-state="error"]')
    status.wait_for()
    assert status.inner_text() == (
        f"DART에 삼성전자의 {latest}년 사업보고서 재무제표가 없습니다(아직 제출 전이거나 재무제표 자료가 없는 보고서). "
        "다른 연도를 고르세요."
    )
    # Another year, and the same company is fetched again.
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    page.get_by_test_id("lookup-source").wait_for()
    assert page.locator('input[name="total_assets"]').input_value() != ""


def test_in_february_the_default_year_fills_the_form_from_the_latest_filing(lookup_url, open_page):
    """Before the end of March last year's reports are not filed yet: the page asks for no year and
    the API gives the latest year that has a filing, saying so."""
    this_year = datetime.date.today().year
    page = open_page(lookup_url, before=lambda p: p.clock.set_fixed_time(datetime.datetime(this_year, 2, 15, 10)))
    search(page, "작년미제출")  # filed up to the year before last
    page.get_by_test_id("company-result").first.click()
    source = page.get_by_test_id("lookup-source")
    source.wait_for()
    filed = this_year - 2
    assert f"{filed}년 사업보고서" in source.inner_text()
    assert page.locator('input[name="total_assets"]').input_value() != ""
    note = page.locator('[data-testid="lookup-warnings"] [data-code="latest_year_not_filed"]')
    assert f"{filed}년 것을 가져왔습니다" in note.inner_text()
    page.locator("#lang-toggle").click()
    assert f"{filed}'s, the latest there is, is given" in note.inner_text()


def test_a_financial_company_is_filled_with_the_warning_and_the_period_is_shown(lookup_url, open_page):
    page = open_page(lookup_url)
    pick_company(page, "가상금융지주")
    page.get_by_test_id("lookup-source").wait_for()
    warning = page.locator('[data-testid="lookup-warnings"] [data-code="financial_company"]')
    assert "금융회사" in warning.inner_text()
    assert (
        f"회계기간 {stand_in.YEAR}.01.01 ~ {stand_in.YEAR}.12.31" in page.get_by_test_id("lookup-source").inner_text()
    )
    # Posted with the company's currency and market, so the KRX flags can be judged.
    with page.expect_request("**/predict") as request:
        page.locator("#submit").click()
    (row,) = request.value.post_data_json["companies"]
    assert row["currency"] == "KRW" and row["market"] == "KOSPI"


def test_separate_statements_can_be_chosen(lookup_url, open_page):
    page = open_page(lookup_url)
    page.get_by_test_id("lookup-fs").select_option("OFS")
    pick_company(page, "삼성전자")
    page.get_by_test_id("lookup-source").wait_for()
    assert "별도재무제표" in page.get_by_test_id("lookup-source").inner_text()
    expected = get_json(f"{lookup_url}/companies/005930/statements?year={stand_in.YEAR}&fs=OFS")
    assert page.locator('input[name="total_assets"]').input_value() == shown_amount(
        expected["statements"]["total_assets"]
    )


def test_dart_busy_and_no_match_are_said_in_english_too(page_server, served_model_dir, dart_stand_in, open_page):
    # DART's 020 (the key's quota spent) stops the instance asking DART until midnight KST: a server
    # of its own, so the lookups of the tests after this one still reach the stand-in.
    page = open_page(page_server(served_model_dir, dart_stand_in.env(), instance="quota spent"))
    page.locator("#lang-toggle").click()
    assert page.locator("#lookup-heading").inner_text() == "Fill in from DART"
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    search(page, "OVER LIMIT")
    page.get_by_test_id("company-result").first.click()
    status = page.locator('[data-testid="lookup-status"][data-state="error"]')
    status.wait_for()
    assert status.inner_text().startswith("DART is not taking requests right now")

    page.get_by_test_id("company-search").fill("no such company")
    page.keyboard.press("Enter")
    page.locator('[data-testid="lookup-status"][data-state="info"]').wait_for()
    assert page.get_by_test_id("lookup-status").inner_text() == "No listed company matches ‘no such company’."
    assert page.get_by_test_id("company-result").count() == 0


def test_without_a_dart_key_the_page_hides_the_lookup(page_server, served_model_dir, open_page):
    page = open_page(page_server(served_model_dir))
    assert page.locator("#lookup").is_hidden()
    assert page.get_by_test_id("company-search").is_hidden()


def test_a_lookup_that_turns_out_unconfigured_says_so_and_hides_the_search(lookup_url, open_page):
    refusal = json.dumps({"error": {"code": "lookup_not_configured", "message": "no key", "details": []}})
    page = open_page(
        lookup_url,
        before=lambda p: p.route(
            "**/companies?*", lambda route: route.fulfill(status=503, content_type="application/json", body=refusal)
        ),
    )
    page.get_by_test_id("company-search").fill("삼성")
    page.keyboard.press("Enter")
    page.get_by_test_id("company-search").wait_for(state="hidden")
    assert page.get_by_test_id("lookup-status").inner_text() == (
        "이 서버에는 DART 조회가 설정되어 있지 않습니다. 값을 직접 입력하세요."
    )


def pick_company(page, text: str) -> None:
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    search(page, text)
    page.get_by_test_id("company-result").first.click()


def test_a_first_filing_fills_this_year_leaves_the_prior_year_blank_says_so_and_is_scored(lookup_url, open_page):
    """A first annual report has no prior year: the rest is filled, the blanks are named, and the
    form is scored with them unknown."""
    page = open_page(lookup_url)
    pick_company(page, "새내기상장")
    page.get_by_test_id("lookup-source").wait_for()
    expected = get_json(f"{lookup_url}/companies/900006/statements?year={stand_in.YEAR}")
    prior = ["total_assets_prior", "revenue_prior", "operating_income_prior"]
    for name in FIELDS:
        shown = "" if name in prior else shown_amount(expected["statements"][name])
        assert page.locator(f'input[name="{name}"]').input_value() == shown
    missing = page.get_by_test_id("lookup-missing")
    assert missing.inner_text() == (
        "공시에서 전기 자산총계, 전기 수익(매출액), 전기 영업이익을 찾지 못해 비워 두었습니다. "
        "값을 알면 입력하고, 모르면 비워 둔 채 예측하세요."
    )

    page.locator("#submit").click()
    result = page.get_by_test_id("result")
    result.get_by_test_id("result-class").wait_for()
    _, answer, _ = post_json(lookup_url + "/predict", {"companies": [expected["statements"]]})
    assert result.get_by_test_id("result-class").inner_text() == answer["predictions"][0]["class_ko"]
    assert result.locator('[data-testid="warnings"] [data-code="unknown_inputs"]').count() == 1
    assert f"새내기상장 {stand_in.YEAR}" in result.inner_text()  # the form still holds the filing's values

    page.locator("#lang-toggle").click()
    assert missing.inner_text() == (
        "Not found in the filing, so left blank: Total assets (prior year), Revenue (prior year), "
        "Operating income (prior year). Type them if you know them, or predict without them."
    )
    # A complete filing picked next leaves nothing to say.
    page.get_by_test_id("company-search").fill("삼성전기")
    page.keyboard.press("Enter")
    page.get_by_test_id("company-result").filter(has_text="삼성전기").first.click()
    missing.wait_for(state="hidden")
    assert page.locator('input[name="total_assets_prior"]').input_value() != ""


def test_with_a_model_that_needs_every_field_a_filing_lacking_one_is_refused(
    page_server, legacy_model_dir, dart_stand_in, open_page
):
    page = open_page(page_server(legacy_model_dir, dart_stand_in.env()))
    pick_company(page, "영업이익없음")
    status = page.locator('[data-testid="lookup-status"][data-state="error"]')
    status.wait_for()
    assert status.inner_text().startswith(f"영업이익없음의 {stand_in.YEAR}년 보고서에 필요한 계정이 없습니다: ")
    assert page.locator('input[name="total_assets"]').input_value() == ""


@pytest.mark.parametrize(
    ("name", "korean", "english"),
    [
        # accounts_missing: the accounts named by the form's labels, in the page's language
        (
            "계정없음",
            "필요한 계정이 없습니다: 당기 자산총계",
            "lacks accounts the form needs: Total assets (current year)",
        ),
        # a DART failure the page words by its code (api.js), not by the API's English message
        ("긴상태", "DART", "DART"),
    ],
)
def test_a_lookup_error_is_reworded_when_the_language_changes(lookup_url, open_page, name, korean, english):
    page = open_page(lookup_url)
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    search(page, name)
    page.get_by_test_id("company-result").first.click()
    status = page.locator('[data-testid="lookup-status"][data-state="error"]')
    status.wait_for()
    in_korean = status.inner_text()
    assert korean in in_korean
    page.locator("#lang-toggle").click()
    in_english = status.inner_text()
    assert english in in_english
    assert in_english != in_korean
    # Korean only in the company's name
    assert not any("\uac00" <= c <= "\ud7a3" for c in in_english.replace(name, ""))
    page.locator("#lang-toggle").click()
    assert status.inner_text() == in_korean
