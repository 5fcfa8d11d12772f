"""The page as a Korean analyst uses it (issue 25), in Debian's Chromium against the real function:
the answer in view, words in the page's language, batches that scale, a page that holds still,
prints on one sheet, reopens from a link, and works with a thumb."""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path

import pytest

from helpers import DEFAULT_MODEL
from soundness.ratios import STATEMENT_FIELDS

from .conftest import DESKTOP, PHONE
from .test_page import EXAMPLE_CSV, HANGUL, recording_requests, upload, write_companies

pytestmark = [pytest.mark.browser, pytest.mark.server]

FIELDS = list(STATEMENT_FIELDS)
FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
LANGS = pytest.mark.parametrize("lang", ["ko", "en"])


def in_language(page, lang: str) -> None:
    if lang == "en":
        page.locator("#lang-toggle").click()


def predict_example(page) -> None:
    page.locator("#fill-example").click()
    page.locator("#submit").scroll_into_view_if_needed()
    page.locator("#submit").click()
    page.get_by_test_id("verdict").wait_for()


# ------------------------------------------------------------------ amounts as they are read


@LANGS
def test_under_each_field_the_page_says_what_it_read_in_eok_and_jo(page_server, open_page, lang):
    page = open_page(page_server(DEFAULT_MODEL))
    in_language(page, lang)
    read = page.get_by_test_id("read-total_assets")
    field = page.locator('input[name="total_assets"]')
    cases = {
        "455,900,000,000": ("≈ 4,559억 원", "≈ 455.9 billion won"),
        "4,559억": ("≈ 4,559억 원", "≈ 455.9 billion won"),
        "1조 2,345억": ("≈ 1조 2,345억 원", "≈ 1.2 trillion won"),
        "△3억 5천만": ("≈ −3억 5,000만 원", "≈ −350 million won"),
        "455,900백만원": ("≈ 4,559억 원", "≈ 455.9 billion won"),
        "-": ("≈ 0 원", "≈ 0 won"),
        "N/A": ("", ""),
    }
    for typed, (korean, english) in cases.items():
        field.fill(typed)
        assert read.inner_text() == (korean if lang == "ko" else english), typed
    page.get_by_test_id("unit").select_option("1000000")  # the statement in 백만원
    field.fill("455,900")
    assert read.inner_text() == ("≈ 4,559억 원" if lang == "ko" else "≈ 455.9 billion won")


def test_amounts_typed_in_korean_units_are_sent_in_won_and_scored_as_the_same_company(page_server, open_page):
    page = open_page(page_server(DEFAULT_MODEL))
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/predict") else None)
    predict_example(page)
    probability = page.get_by_test_id("result-probability").inner_text()
    won = sent[0]["companies"][0]
    page.get_by_test_id("unit").select_option("1000000")
    for name in FIELDS:  # the same statement in 백만원, losses with DART's △
        millions = won[name] / 1e6
        text = f"{abs(millions):,.6f}".rstrip("0").rstrip(".")
        page.locator(f'input[name="{name}"]').fill(("△" if millions < 0 else "") + text)
    with page.expect_response("**/predict"):
        page.locator("#submit").click()
    page.wait_for_function("() => !document.querySelector('#submit').disabled")
    assert sent[1]["companies"][0] == pytest.approx(won, rel=1e-12)
    assert page.get_by_test_id("result-probability").inner_text() == probability


def test_a_phone_keyboard_gets_a_decimal_pad_and_a_minus_beside_each_field(page_server, open_page):
    page = open_page(page_server(DEFAULT_MODEL), viewport=PHONE)
    assert page.locator("#fields input").evaluate_all("inputs => inputs.map((i) => i.inputMode)") == ["decimal"] * 9
    field = page.locator('input[name="net_income"]')
    field.fill("1,234")
    sign = page.locator('[data-sign-for="net_income"]')
    assert sign.get_attribute("aria-label") == "부호 바꾸기(−): 당기순이익"
    sign.click()
    assert field.input_value() == "-1,234" and page.get_by_test_id("read-net_income").inner_text() == "≈ −1,234 원"
    sign.click()
    assert field.input_value() == "1,234"


# ------------------------------------------------------------------ the answer in view


@LANGS
@VIEWPORTS
def test_the_verdict_is_scrolled_into_view_focused_and_announced_briefly(page_server, open_page, viewport, lang):
    page = open_page(page_server(DEFAULT_MODEL), viewport=viewport)
    in_language(page, lang)
    predict_example(page)
    verdict = page.get_by_test_id("verdict")
    assert page.evaluate("document.activeElement.id") == "verdict"
    box = verdict.bounding_box()
    assert box["y"] >= 0 and box["y"] + min(box["height"], 120) <= viewport["height"]  # its top lines are on screen
    first = verdict.locator("p").first.get_attribute("data-testid")
    assert first in ("result-grade", "result-class")  # the grade leads when the answer has one
    announce = page.get_by_test_id("announce")
    page.wait_for_function("() => document.querySelector('#announce').textContent !== ''")
    said = announce.inner_text()
    probability = page.get_by_test_id("result-probability").inner_text()
    shown_class = page.get_by_test_id("result-class").inner_text()
    # (the English class is capitalised by the style sheet where it stands alone)
    assert said.lower().endswith(
        f"{shown_class}, {'비건전 확률' if lang == 'ko' else 'probability unsound'} {probability}".lower()
    )
    assert len(said) < 80
    assert announce.get_attribute("aria-live") == "polite"
    assert page.get_by_test_id("result").get_attribute("aria-live") is None  # not the whole card read out


# ------------------------------------------------------------------ words in the page's language


@pytest.fixture
def keyed_url(page_server, served_model_dir):
    return page_server(served_model_dir, {"API_KEYS": "analyst-key-1"})


def test_a_service_that_needs_a_key_says_so_and_takes_one(keyed_url, open_page):
    page = open_page(keyed_url)
    keys = []
    page.on("request", lambda r: keys.append(r.headers.get("x-api-key")) if r.url.endswith("/predict") else None)
    page.locator("#fill-example").click()
    page.locator("#submit").click()
    message = page.get_by_test_id("form-message")
    message.get_by_test_id("api-key").wait_for()
    assert message.inner_text().startswith("이 서비스는 API 키가 있어야 예측합니다.")
    assert not re.search(r"X-API-Key header is required|HTTP 401", message.inner_text())
    message.get_by_test_id("api-key").fill("analyst-key-1")
    message.get_by_test_id("api-key-save").click()
    page.get_by_test_id("verdict").wait_for()
    assert keys == [None, "analyst-key-1"]


def test_a_body_too_large_for_the_server_is_said_in_korean(page_server, open_page, served_model_dir, tmp_path):
    url = page_server(served_model_dir, {"MAX_BODY_BYTES": "3000"})
    source = list(csv.reader(io.StringIO(EXAMPLE_CSV.read_text(encoding="utf-8"))))
    path = tmp_path / "many.csv"
    path.write_text(
        "\n".join(",".join(f'"{c}"' for c in row) for row in [source[0]] + source[1:] * 20), encoding="utf-8"
    )
    page = open_page(url)
    page.locator("#batch-file").set_input_files(str(path))
    page.locator("#batch-submit").click()
    status = page.locator('[data-testid="batch-status"][data-state="error"]')
    status.wait_for()
    assert status.inner_text() == (
        "60개 기업 중 0개를 예측한 뒤 멈췄습니다. 보낸 내용이 서버가 한 번에 받는 크기보다 큽니다. 파일을 나누어 보내세요."
    )


@pytest.fixture
def bucket(tmp_path):
    """bucket(api_url) -> the URL of a copy of frontend/ served as a storage bucket serves it
    (plain files, no CSP) from another origin, its config.js pointing at `api_url`."""
    import functools
    import http.server
    import shutil
    import threading

    servers = []

    def serve(api_url: str) -> str:
        site = Path(shutil.copytree(FRONTEND, tmp_path / f"site{len(servers)}"))
        (site / "config.js").write_text(f'window.SOUNDNESS_CONFIG = {{apiBase: "{api_url}"}};\n', encoding="utf-8")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://localhost:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_cross_origin_service_that_refuses_the_page_is_named_a_cors_refusal(
    page_server, open_page, served_model_dir, bucket
):
    api = page_server(served_model_dir, {"ALLOWED_ORIGINS": "https://elsewhere.example"})
    page = open_page(bucket(api), wait_ready=False)
    status = page.locator('[data-testid="service-status"][data-state="error"]')
    status.wait_for()
    assert status.inner_text() == (
        f"서버({api})가 이 페이지의 주소에서 오는 요청을 허용하지 않습니다(CORS). "
        "서버 설정 ALLOWED_ORIGINS에 이 페이지의 주소를 넣어야 합니다."
    )
    allowed = page_server(served_model_dir)  # ALLOWED_ORIGINS=* by default: the same page works
    open_page(bucket(allowed))


# ------------------------------------------------------------------ batches


@VIEWPORTS
def test_the_batch_table_leads_with_the_verdict_and_errors_in_a_labelled_focusable_region(
    page_server, open_page, served_model_dir, legacy_example, tmp_path, viewport
):
    statement = legacy_example["statement"]
    path = tmp_path / "mixed.csv"
    path.write_text(
        "\n".join(
            [
                ",".join(["회사명", *(label["ko"] for label in STATEMENT_FIELDS.values())]),
                ",".join(["good", *(f'"{statement[f]:,}"' for f in FIELDS)]),
                ",".join(["typo", *(f'"{statement[f]:,}"' if f != "revenue" else "12x" for f in FIELDS)]),
            ]
        ),
        encoding="utf-8",
    )
    page = open_page(page_server(served_model_dir), viewport=viewport)
    upload(page, path)
    table = page.get_by_test_id("batch-table")
    assert table.locator("thead th").all_inner_texts() == [
        "행",
        "회사",
        "위험 등급",
        "판정",
        "비건전 확률",
        "오류 · 주의",
    ]
    region = page.get_by_test_id("batch-scroll")
    assert region.get_attribute("role") == "region" and region.get_attribute("tabindex") == "0"
    name = page.evaluate("id => document.getElementById(id).textContent", region.get_attribute("aria-labelledby"))
    assert name == "일괄 예측 결과(가로로 스크롤)"
    page.get_by_test_id("show-ratios").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "batch-scroll"
    error = table.locator("tbody tr").nth(1).locator(".notes")
    assert error.inner_text().startswith("당기 수익(매출액): 금액으로 읽을 수 없습니다")
    box, scroller = error.bounding_box(), region.bounding_box()
    assert box["x"] < scroller["x"] + scroller["width"]  # the error is in sight, not 20 columns away
    page.get_by_test_id("show-ratios").check()
    assert table.locator("thead th").count() > 6


def test_a_file_past_the_stated_maximum_is_refused_before_it_is_read(page_server, open_page, served_model_dir):
    page = open_page(page_server(served_model_dir))
    sent = recording_requests(page)
    big = b"name,total_assets\n" + b"x,1\n" * (10 * 1024 * 1024 // 4 + 1)
    page.locator("#batch-file").set_input_files({"name": "big.csv", "mimeType": "text/csv", "buffer": big})
    page.locator("#batch-submit").click()
    status = page.locator('[data-testid="batch-status"][data-state="error"]')
    status.wait_for()
    assert (
        status.inner_text()
        == "파일이 너무 큽니다(10.0 MB). 한 번에 10.0 MB까지 올릴 수 있습니다. 파일을 나누어 올리세요."
    )
    assert sent == []


def test_a_long_batch_is_shown_a_page_at_a_time(page_server, open_page, served_model_dir, legacy_example, tmp_path):
    path = write_companies(tmp_path / "many.csv", legacy_example["statement"], [f"c{i}" for i in range(250)])
    page = open_page(page_server(served_model_dir))
    upload(page, path)
    rows = page.get_by_test_id("batch-table").locator("tbody tr")
    assert rows.count() == 100 and rows.first.locator("th").inner_text() == "c0"
    page.get_by_test_id("page-next").click()
    page.get_by_test_id("page-next").click()
    assert rows.count() == 50 and rows.first.locator("th").inner_text() == "c200"
    assert page.get_by_test_id("page-next").is_disabled()
    assert "전체 250행 중 201–250행" in page.get_by_test_id("batch-pager").inner_text()


@LANGS
def test_the_results_csv_is_in_the_pages_language_dated_and_excel_safe(
    page_server, open_page, served_model_dir, legacy_example, tmp_path, lang
):
    path = write_companies(tmp_path / "odd.csv", legacy_example["statement"], ["=HYPERLINK(\"x\")", "@SUM(1)", "Plain"])
    page = open_page(page_server(served_model_dir))
    in_language(page, lang)
    upload(page, path)
    with page.expect_download() as download:
        page.get_by_test_id("batch-download").click()
    today = page.evaluate("() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; }")
    date = datetime.date(*today).isoformat()
    name = download.value.suggested_filename
    assert name == (f"건전성-예측-{date}.csv" if lang == "ko" else f"soundness-predictions-{date}.csv")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Korean by the mark
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    company, probability = ("회사", "비건전 확률(%)") if lang == "ko" else ("company", "probability unsound (%)")
    assert [row[company] for row in rows] == ["'=HYPERLINK(\"x\")", "'@SUM(1)", "Plain"]
    assert re.fullmatch(r"\d+(\.\d)?", rows[0][probability])
    header = list(rows[0])
    assert all(HANGUL.search(h) for h in header) if lang == "ko" else not any(HANGUL.search(h) for h in header)


# ------------------------------------------------------------------ a page that holds still


LAYOUT_SHIFTS = """() => new Promise((resolve) => {
    let total = 0;
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
    }).observe({type: "layout-shift", buffered: true});
    setTimeout(() => resolve(total), 1500);
})"""


@VIEWPORTS
def test_the_page_holds_still_while_it_loads(page_server, open_page, served_model_dir, viewport):
    page = open_page(page_server(served_model_dir), viewport=viewport)
    page.wait_for_function("() => !document.querySelector('#fill-example').disabled")
    shift = page.evaluate(LAYOUT_SHIFTS)
    print(f"cumulative layout shift at {viewport['width']}x{viewport['height']}: {shift:.4f}")
    assert shift < 0.1


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_korean_breaks_between_words_and_ratios_carry_units(page_server, open_page, lang):
    page = open_page(page_server(DEFAULT_MODEL), viewport=PHONE)
    in_language(page, lang)
    predict_example(page)
    style = page.evaluate("getComputedStyle(document.querySelector('.note')).wordBreak")
    assert style == ("keep-all" if lang == "ko" else "normal")
    values = page.locator(".feature-value").all_inner_texts()
    assert values and all(re.search(r"(%|회|×|%p|pp)$", v) or v == "—" for v in values)


# ------------------------------------------------------------------ print, link, thumb, no script


def test_the_result_prints_on_one_page_with_the_date_and_model_version(page_server, open_page, served_model):
    page = open_page(page_server(DEFAULT_MODEL))
    predict_example(page)
    page.emulate_media(media="print")
    stamp = page.get_by_test_id("print-stamp")
    assert stamp.is_visible() and f"(버전 {served_model['version']})" in stamp.inner_text()
    assert re.search(r"\d{4}\. \d{1,2}\. \d{1,2}\.", stamp.inner_text())  # the date, as ko-KR writes it
    for hidden in ("#company-form", "#batch-form", "#lang-toggle", "#print"):
        assert not page.locator(hidden).is_visible(), hidden
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1


def test_a_link_with_the_inputs_restores_them_and_never_sends_them(page_server, open_page):
    url = page_server(DEFAULT_MODEL)
    page = open_page(url)
    sent = []
    page.on("request", lambda r: sent.append((r.url, r.post_data or "")))
    page.locator('input[name="total_assets"]').fill("1조 2,345억")
    page.locator("#fill-example").click()
    page.locator('input[name="net_income"]').fill("△12억")
    page.locator("#submit").click()
    page.get_by_test_id("verdict").wait_for()
    link = page.url
    assert "#" in link and "net_income=" in link.split("#", 1)[1]
    typed = {name: page.locator(f'input[name="{name}"]').input_value() for name in FIELDS}

    again = open_page(link)
    again.on("request", lambda r: sent.append((r.url, r.post_data or "")))
    assert {name: again.locator(f'input[name="{name}"]').input_value() for name in FIELDS} == typed
    assert again.get_by_test_id("form-message").inner_text() == "링크에 담긴 값을 채웠습니다. ‘예측’을 누르세요."
    assert sent and all("#" not in u and "net_income=" not in u and "△" not in body for u, body in sent)


def test_every_control_on_a_phone_is_at_least_44_px(page_server, open_page, served_model_dir):
    page = open_page(page_server(served_model_dir), viewport=PHONE)
    predict_example(page)
    upload(page, EXAMPLE_CSV)
    small = page.evaluate("""() => [...document.querySelectorAll(
            "button, a, select, summary, input:not([type=checkbox]), label.ratio-toggle")]
        .filter((e) => e.offsetParent !== null && !e.closest("p.note, .bar-axis"))
        .map((e) => [e.id || e.dataset.testid || e.textContent.trim().slice(0, 20), e.getBoundingClientRect()])
        .filter(([, r]) => r.height < 44 || r.width < 44)
        .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)""")
    assert small == []


def test_without_javascript_the_page_says_so_and_shows_no_dead_buttons(browser, page_server, served_model_dir):
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(page_server(served_model_dir))
        assert (
            page.locator("noscript p").inner_text()
            == "이 페이지는 자바스크립트가 필요합니다. / This page needs JavaScript."
        )
        assert page.locator("noscript p").is_visible()
        assert page.locator("button:visible, input[type=file]:visible").count() == 0
        assert not page.get_by_test_id("service-status").is_visible()  # no "connecting…" that never ends
        labels = page.locator(".label-text").all_inner_texts()
        assert labels == [label["ko"] for label in STATEMENT_FIELDS.values()]  # the form is still legible
        description = page.locator('meta[name="description"]').get_attribute("content")
        assert 50 <= len(description) <= 320 and HANGUL.search(description)
    finally:
        context.close()
