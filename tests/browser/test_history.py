"""The company's risk over the years on the page: asked for only when the person opens it, drawn
from GET /companies/{code}/history in Korean and English, every figure the API's."""

from __future__ import annotations

import pytest

import dart_stand_in as stand_in

from . import test_lookup
from .test_lookup import get_json

pytestmark = [pytest.mark.browser, pytest.mark.server]
# A first history is a dozen DART calls one after another: under this machine's load it may take
# longer than the page's usual waits.
HISTORY_WAIT_MS = 60000
lookup_url = test_lookup.lookup_url  # the same real function and DART stand-in


def pick(page, name: str) -> None:
    page.get_by_test_id("lookup-year").select_option(str(stand_in.YEAR))
    page.get_by_test_id("company-search").fill(name)
    page.keyboard.press("Enter")
    page.get_by_test_id("company-result").first.click()
    page.get_by_test_id("lookup-source").wait_for()


def percent(p: float) -> str:
    value = p * 100
    return f"{value:.0f} %" if value >= 10 else f"{float(f'{value:.2g}'):g} %"


def test_the_history_is_asked_for_only_when_opened_and_drawn_from_the_apis_figures(lookup_url, open_page, tmp_path):
    history_requests = []
    page = open_page(
        lookup_url,
        before=lambda p: p.on(
            "request",
            lambda r: history_requests.append(r.url) if "/history?" in r.url or r.url.endswith("/history") else None,
        ),
    )
    pick(page, "삼성전자")
    assert history_requests == []  # picking a company spends no DART call on its history
    page.get_by_test_id("history-open").click()
    chart = page.get_by_test_id("history-chart")
    chart.wait_for(timeout=HISTORY_WAIT_MS)
    assert len(history_requests) == 1

    expected = get_json(f"{lookup_url}/companies/005930/history")
    years = [entry["year"] for entry in expected["years"]]
    points = page.get_by_test_id("history-point")
    assert (
        [int(points.nth(i).get_attribute("data-year")) for i in range(points.count())]
        == years
        == [2018, 2019, stand_in.YEAR]
    )
    absent = page.get_by_test_id("history-absent")
    assert absent.count() == len(expected["absent"])
    for entry in expected["years"]:
        row = page.locator(f'[data-testid="history-row"][data-year="{entry["year"]}"]')
        prediction = entry["prediction"]
        assert row.get_by_test_id("history-probability").inner_text() == percent(prediction["probability_unsound"])
        assert prediction["class_ko"] in row.inner_text()
        if prediction.get("grade"):
            assert prediction["grade"]["ko"] in row.inner_text()
        point = page.locator(f'[data-testid="history-point"][data-year="{entry["year"]}"]')
        assert f"point {prediction['class']}" == point.get_attribute("class")
    assert "비건전 확률" in chart.get_attribute("aria-label")
    assert page.get_by_test_id("history-trend").inner_text().startswith("2018년")
    page.get_by_test_id("history").screenshot(path=str(tmp_path / "history-ko.png"))

    page.locator("#lang-toggle").click()
    assert "probability of being unsound by year" in page.get_by_test_id("history-chart").get_attribute("aria-label")
    assert page.get_by_test_id("history-trend").inner_text().startswith("from ")
    first = expected["years"][0]["prediction"]
    assert first["class"] in page.locator('[data-testid="history-row"][data-year="2018"]').inner_text()
    assert len(history_requests) == 1  # the language is switched on the answer already there
    page.get_by_test_id("history").screenshot(path=str(tmp_path / "history-en.png"))


def test_another_company_forgets_the_chart_and_a_financial_one_carries_its_warning(lookup_url, open_page):
    page = open_page(lookup_url)
    pick(page, "삼성전자")
    page.get_by_test_id("history-open").click()
    page.get_by_test_id("history-chart").wait_for(timeout=HISTORY_WAIT_MS)
    pick(page, "가상금융지주")
    assert page.get_by_test_id("history-chart").count() == 0
    page.get_by_test_id("history-open").click()
    warning = page.locator('[data-testid="history-warnings"] [data-code="financial_company"]')
    warning.wait_for(timeout=HISTORY_WAIT_MS)
    assert "금융회사" in warning.inner_text()
    assert page.get_by_test_id("history-point").count() == 1
