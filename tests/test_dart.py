"""The company lookup: GET /companies and GET /companies/{code}/statements against a local
stand-in for OpenDART (tests/dart_stand_in.py), and how DART's answers are read."""

import io
import json
import threading
import time
import urllib.error
import urllib.request
import zipfile
from datetime import UTC

import pytest
from starlette.testclient import TestClient

import dart_stand_in as stand_in
from harness.server import free_port
from helpers import post_json, schema_validator
from soundness.ratios import STATEMENT_FIELDS


@pytest.fixture
def lookup_client(make_client, served_model_dir, dart_stand_in):
    def make(**overrides):
        return make_client(MODEL_DIR=served_model_dir, **dart_stand_in.env(**overrides))

    return make


@pytest.fixture
def client(lookup_client):
    return lookup_client()


def dart_amount(text: str) -> int:
    """The test's own reading of DART's amount text."""
    return int(text.replace(",", ""))


def filed(corp_code: str, fs_div: str, account: str, prior: bool = False) -> int:
    return dart_amount(stand_in.BY_CORP_CODE[corp_code].filings[fs_div][account][int(prior)])


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [company["name"] for company in response.json()["companies"]]


# ---------------------------------------------------------------- finding a company


def test_a_stock_code_finds_its_company_first_with_its_codes_and_names(client):
    companies = client.get("/companies?q=005930").json()["companies"]
    assert companies[0] == {
        "corp_code": "00126380",
        "name": "삼성전자",
        "name_en": "SAMSUNG ELECTRONICS CO,.LTD",
        "stock_code": "005930",
    }


def test_names_rank_exact_then_beginning_then_containing_shorter_first(client):
    assert names(client.get("/companies", params={"q": "삼성전자"})) == ["삼성전자"]
    assert names(client.get("/companies", params={"q": "삼성"})) == ["삼성물산", "삼성전기", "삼성전자", "전자삼성"]


def test_english_names_match_ignoring_case_and_spaces(client):
    assert names(client.get("/companies", params={"q": "samsung electronics"})) == ["삼성전자"]
    assert names(client.get("/companies", params={"q": " SK Hynix "})) == ["SK하이닉스"]


def test_companies_without_a_stock_code_are_not_offered(client):
    assert names(client.get("/companies", params={"q": "다코"})) == []


def test_a_missing_or_overlong_query_is_422_naming_q(client):
    for query in ({}, {"q": "  "}, {"q": "가" * 101}):
        error = assert_error(client.get("/companies", params=query), 422, "invalid_query")
        assert error["details"][0]["field"] == "q"


def test_the_company_list_is_fetched_once_for_many_first_requests(client, dart_stand_in):
    before = dart_stand_in.list_calls()
    barrier = threading.Barrier(8)
    statuses = []

    def search():
        barrier.wait()
        statuses.append(TestClient(client.app).get("/companies?q=삼성").status_code)

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert dart_stand_in.list_calls() - before == 1


# ---------------------------------------------------------------- the statements


def test_consolidated_statements_are_read_into_the_nine_fields(client):
    response = client.get("/companies/005930/statements?year=2023")
    assert response.status_code == 200, response.json()
    body = response.json()
    cfs = lambda account, prior=False: filed("00126380", "CFS", account, prior)  # noqa: E731
    assert body["statements"] == {
        "total_assets": cfs("자산총계"),
        "total_assets_prior": cfs("자산총계", True),
        "total_liabilities": cfs("부채총계"),
        "total_equity": cfs("자본총계"),
        "revenue": cfs("매출액"),
        "revenue_prior": cfs("매출액", True),
        "operating_income": cfs("영업이익"),
        "operating_income_prior": cfs("영업이익", True),
        "net_income": cfs("당기순이익"),
    }
    rcept_no = stand_in.RCEPT_NO["00126380"]
    assert body["source"] == {
        "rcept_no": rcept_no,
        "fs_div": "CFS",
        "report": "annual",
        "url": f"https://dart.fss.or.kr/dsaf001/main.do?rcpNo={rcept_no}",
        "thstrm_dt": "2023.01.01 ~ 2023.12.31",  # the period, from the income statement
        "frmtrm_dt": "2022.01.01 ~ 2022.12.31",
    }
    assert body["company"]["name"] == "삼성전자" and body["year"] == 2023 and body["currency"] == "KRW"
    assert body["market"] == "KOSPI"  # company.json's corp_cls Y
    assert body["missing"] == [] and body["warnings"] == []


def test_a_filing_with_separate_statements_only_is_read_under_its_other_account_names(client, dart_stand_in):
    body = client.get("/companies/00164779/statements?year=2023").json()  # by DART's corp_code
    assert body["source"]["fs_div"] == "OFS"
    assert body["statements"]["revenue"] == filed("00164779", "OFS", "수익(매출액)")
    assert body["statements"]["operating_income"] == filed("00164779", "OFS", "영업이익(손실)") < 0
    assert body["statements"]["net_income"] == filed("00164779", "OFS", "당기순이익(손실)")
    call = dart_stand_in.statement_calls()[-1]
    assert (call["corp_code"], call["bsns_year"], call["reprt_code"]) == ("00164779", "2023", "11011")


def test_the_filled_statements_can_be_scored(client):
    statements = client.get("/companies/005930/statements?year=2023").json()["statements"]
    response = client.post("/predict", json={"companies": [statements]})
    assert response.status_code == 200
    assert response.json()["predictions"][0]["class"] in ("sound", "unsound")


# ---------------------------------------------------------------- accounts the filing lacks
# The served model takes unknown inputs: the accounts found are given, the others are null and
# named in `missing`, and the person types them or predicts without them.


def statements_of(client, code: str) -> dict:
    response = client.get(f"/companies/{code}/statements?year={stand_in.YEAR}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_filing_without_an_account_gives_the_others_and_names_the_missing_ones(client):
    body = statements_of(client, "900005")
    statements = body["statements"]
    assert list(statements) == list(STATEMENT_FIELDS)
    assert statements["operating_income"] is None and statements["operating_income_prior"] is None
    assert statements["revenue"] == filed("00999005", "CFS", "매출액")
    assert statements["net_income"] == filed("00999005", "CFS", "당기순이익")
    assert [m["field"] for m in body["missing"]] == ["operating_income", "operating_income_prior"]
    assert all("영업이익" in m["problem"] and "has no" in m["problem"] for m in body["missing"])


def test_a_first_filing_gives_this_years_accounts_and_names_the_prior_years_as_missing(client):
    body = statements_of(client, "900006")
    prior = ["total_assets_prior", "revenue_prior", "operating_income_prior"]
    assert [m["field"] for m in body["missing"]] == prior
    assert all("blank for the prior year (frmtrm_amount)" in m["problem"] for m in body["missing"])
    assert {field for field, value in body["statements"].items() if value is None} == set(prior)
    assert body["statements"]["total_assets"] == filed("00999006", "CFS", "자산총계")
    assert body["source"]["fs_div"] == "CFS" and body["source"]["rcept_no"] == stand_in.RCEPT_NO["00999006"]


@pytest.mark.parametrize("code", ["900005", "900006"])
def test_statements_with_missing_accounts_are_scored_with_the_unknown_inputs_warning(client, code):
    statements = statements_of(client, code)["statements"]
    response = client.post("/predict", json={"companies": [statements]})
    assert response.status_code == 200, response.json()
    prediction = response.json()["predictions"][0]
    assert prediction["class"] in ("sound", "unsound")
    (warning,) = [w for w in prediction["warnings"] if w["code"] == "unknown_inputs"]
    if code == "900006":  # no prior year: the growth ratios and the prior-year ones are unknown
        assert "revenue_growth_pct" in warning["fields"] and "prior_operating_roa_pct" in warning["fields"]


def test_a_model_that_needs_every_account_still_refuses_a_filing_lacking_one(
    make_client, legacy_model_dir, dart_stand_in
):
    client = make_client(MODEL_DIR=legacy_model_dir, **dart_stand_in.env())
    assert client.get("/model").json()["accepts_unknown_inputs"] is False
    error = assert_error(client.get("/companies/900005/statements?year=2023"), 422, "accounts_missing")
    assert [d["field"] for d in error["details"]] == ["operating_income", "operating_income_prior"]
    assert "no unknown inputs" in error["message"]
    error = assert_error(client.get("/companies/900006/statements?year=2023"), 422, "accounts_missing")
    assert {d["field"] for d in error["details"]} == {"total_assets_prior", "revenue_prior", "operating_income_prior"}
    assert statements_of(client, "005930")["missing"] == []  # a complete filing is answered as before


def test_complete_and_partial_answers_and_the_refusal_are_as_documented(client):
    document = client.get("/openapi.json").json()
    answers, error = schema_validator(document, "Statements"), schema_validator(document, "Error")
    for code in ["005930", "900005", "900006"]:
        assert not [str(e) for e in answers.iter_errors(statements_of(client, code))]
    assert not [str(e) for e in error.iter_errors(client.get("/companies/900007/statements?year=2023").json())]
    documented = document["paths"]["/companies/{code}/statements"]["get"]["responses"]
    assert "accounts_missing" in documented["422"]["description"]


def test_only_a_filing_lacking_accounts_needs_the_model_to_be_answered(make_client, tmp_path, dart_stand_in):
    client = make_client(MODEL_DIR=tmp_path / "no-model", **dart_stand_in.env())
    assert statements_of(client, "005930")["missing"] == []
    assert_error(client.get("/companies/900006/statements?year=2023"), 503, "model_unavailable")


@pytest.mark.parametrize("code, found, missing", [("900007", "net_income", 8), ("900008", "none", 9)])
def test_a_filing_that_gives_none_of_the_models_inputs_is_refused(client, code, found, missing):
    error = assert_error(client.get(f"/companies/{code}/statements?year=2023"), 422, "accounts_missing")
    assert "none of the model's inputs" in error["message"]
    *missing_accounts, summary = error["details"]
    assert len(missing_accounts) == missing and all(d["field"] in STATEMENT_FIELDS for d in missing_accounts)
    assert summary["field"] is None and f"({found}) give no input" in summary["problem"]


def test_a_filing_lacking_accounts_is_asked_of_dart_once(client, dart_stand_in):
    before = len(dart_stand_in.statement_calls())
    assert statements_of(client, "900006") == statements_of(client, "00999006")
    assert client.get("/companies/900007/statements?year=2023").status_code == 422
    assert client.get("/companies/900007/statements?year=2023").status_code == 422
    assert len(dart_stand_in.statement_calls()) - before == 2


def test_answers_are_kept_so_asking_again_does_not_ask_dart(client, dart_stand_in):
    before = len(dart_stand_in.statement_calls())
    first = client.get("/companies/009150/statements?year=2023").json()
    again = client.get("/companies/00126371/statements?year=2023").json()  # the same company
    assert first == again
    assert len(dart_stand_in.statement_calls()) - before == 1


def test_the_cache_is_bounded_forgetting_the_least_recently_used(lookup_client, dart_stand_in):
    client = lookup_client(DART_CACHE_SIZE="2")
    before = len(dart_stand_in.statement_calls())
    for code in ["005930", "000660", "005930", "028260", "005930", "000660"]:
        assert client.get(f"/companies/{code}/statements?year=2023").status_code == 200
    # 005930 stays (used most recently each time); 000660 is pushed out by 028260 and asked again.
    assert len(dart_stand_in.statement_calls()) - before == 4


# ---------------------------------------------------------------- DART says no


def test_no_filing_for_that_year_is_404_naming_the_company_and_year(client):
    error = assert_error(client.get("/companies/005930/statements?year=2016"), 404, "no_filing")
    assert "삼성전자" in error["message"] and "2016" in error["message"]
    assert error["details"][0]["field"] == "year"


def test_dart_request_limit_is_429_with_retry_after(client):
    response = client.get("/companies/900002/statements?year=2023")
    assert_error(response, 429, "dart_busy")
    assert 0 < int(response.headers["Retry-After"]) <= 24 * 3600


def test_a_rejected_key_is_503_logged_once_and_the_key_is_never_shown(lookup_client, dart_stand_in, capfd):
    wrong_key = "wrong-key-" + "9" * 30
    client = lookup_client(DART_API_KEY=wrong_key)
    capfd.readouterr()
    answers = [client.get("/companies?q=삼성"), client.get("/companies/005930/statements")]
    for response in answers:
        assert_error(response, 503, "lookup_unavailable")
    log = capfd.readouterr().out
    assert sum("status 010" in line for line in log.splitlines()) == 1
    assert wrong_key not in log + "".join(r.text for r in answers)
    assert dart_stand_in.calls[-1][1]["crtfc_key"] == wrong_key  # it was sent, to DART only


def test_an_amount_that_is_not_a_number_is_502_naming_field_and_account(client):
    error = assert_error(client.get("/companies/900004/statements?year=2023"), 502, "dart_bad_answer")
    (detail,) = error["details"]
    assert detail["field"] == "revenue" and "매출액" in detail["problem"] and "12,3O4,000" in detail["problem"]


def test_a_slow_answer_is_504_within_the_timeout(client):
    started = time.monotonic()
    assert_error(client.get("/companies/900003/statements?year=2023"), 504, "dart_timeout")
    assert time.monotonic() - started < stand_in.SLOW_SECONDS


def test_an_unreachable_dart_is_502(lookup_client):
    client = lookup_client(DART_API_URL=f"http://127.0.0.1:{free_port()}/api")
    assert_error(client.get("/companies?q=삼성"), 502, "dart_bad_answer")


@pytest.mark.parametrize(
    "path, field",
    [
        ("/companies/5930/statements", "code"),
        ("/companies/00593a/statements", "code"),
        ("/companies/٠٠٥٩٣٠/statements", "code"),  # Arabic-Indic digits
        ("/companies/005930/statements?year=٢٠٢٣", "year"),
        ("/companies/005930/statements?year=1999", "year"),
        ("/companies/005930/statements?year=20x3", "year"),
        ("/companies/005930/statements?year=3000", "year"),
    ],
)
def test_malformed_codes_and_years_are_422_naming_them(client, path, field):
    response = client.get(path)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field


def test_an_unknown_company_code_is_404(client):
    assert_error(client.get("/companies/123456/statements?year=2023"), 404, "company_not_found")


# ---------------------------------------------------------------- configuration


def test_without_a_key_the_lookup_says_it_is_not_configured(make_client, served_model_dir, dart_stand_in):
    client = make_client(MODEL_DIR=served_model_dir, DART_API_URL=dart_stand_in.url)
    before = len(dart_stand_in.calls)
    assert_error(client.get("/companies?q=삼성"), 503, "lookup_not_configured")
    assert_error(client.get("/companies/005930/statements?year=2023"), 503, "lookup_not_configured")
    assert client.get("/model").json()["company_lookup"] is False
    assert len(dart_stand_in.calls) == before


def test_with_a_key_the_model_facts_say_the_lookup_is_on(client):
    assert client.get("/model").json()["company_lookup"] is True


def test_with_api_keys_lookups_need_one_too(lookup_client):
    client = lookup_client(API_KEYS="k1")
    assert_error(client.get("/companies?q=삼성"), 401, "unauthorized")
    assert client.get("/companies?q=삼성", headers={"X-API-Key": "k1"}).status_code == 200


def test_the_key_is_not_in_the_settings_repr():
    from soundness_api.config import Settings

    assert stand_in.KEY not in repr(Settings.from_env({"DART_API_KEY": stand_in.KEY}))


def test_the_company_list_is_renewed_after_a_day_and_kept_when_renewal_fails(dart_stand_in):
    from soundness_api.config import Settings
    from soundness_api.dart import DartClient
    from soundness_api.lookup import REFRESH_SECONDS, CompanyLookup

    now = [1000.0]
    lookup = CompanyLookup(Settings.from_env(dart_stand_in.env()), clock=lambda: now[0])
    assert lookup.search("삼성전자")["companies"]
    now[0] += REFRESH_SECONDS - 1
    lookup.search("삼성전자")
    assert lookup.list_fetches == 1
    now[0] += 1
    lookup.search("삼성전자")
    assert lookup.list_fetches == 2

    lookup._client = DartClient(stand_in.KEY, "http://127.0.0.1:9/api", 1)  # DART goes away: the old list still answers
    now[0] += REFRESH_SECONDS
    assert lookup.search("삼성전자")["companies"][0]["stock_code"] == "005930"
    assert lookup.list_fetches == 3


def test_darts_day_is_korean_time():
    from datetime import datetime

    from soundness_api.lookup import latest_finished_year, seconds_to_kst_midnight

    new_year_in_seoul = datetime(2024, 12, 31, 15, 30, tzinfo=UTC)  # 00:30 on 1 January in Seoul
    assert latest_finished_year(new_year_in_seoul) == 2024
    assert seconds_to_kst_midnight(datetime(2024, 6, 1, 14, 59, tzinfo=UTC)) == 60


# ---------------------------------------------------------------- reading DART's answers


def zipped(xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("CORPCODE.xml", xml)
    return buffer.getvalue()


def test_a_company_list_with_a_dtd_is_refused_before_expanding_entities():
    from soundness_api.dart import DartBadAnswer, read_company_list

    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE result [<!ENTITY l0 "lol">{laughs}]>'
        "<result><list><corp_code>1</corp_code><corp_name>&l9;</corp_name>"
        "<stock_code>000001</stock_code></list></result>"
    ).encode()
    with pytest.raises(DartBadAnswer, match="DTD"):
        read_company_list(zipped(bomb))


def test_a_refused_company_list_reports_darts_status():
    from soundness_api.dart import DartStatus, read_company_list

    with pytest.raises(DartStatus) as refused:
        read_company_list(stand_in.status_xml("011", "사용할 수 없는 키입니다."))
    assert refused.value.status == "011"


@pytest.mark.parametrize(
    "text, value",
    [("1,234,567", 1234567), ("-5,678", -5678), ("0", 0), ("12", 12), ("-", None), ("", None), (" 1,000 ", 1000)],
)
def test_amounts_are_read_as_dart_writes_them(text, value):
    from soundness_api.dart import parse_amount

    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["1,23", "12O", "(1,234)", "1.2.3", "--5", None])
def test_anything_else_is_not_an_amount(text):
    from soundness_api.dart import parse_amount

    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.server
def test_the_real_server_looks_up_and_scores_a_company(start_server, served_model_dir, dart_stand_in):
    server = start_server({"MODEL_DIR": str(served_model_dir), **dart_stand_in.env()})
    with urllib.request.urlopen(server.url + "/companies/005930/statements?year=2023", timeout=10) as response:
        body = json.loads(response.read())
    status, answer, _ = post_json(server.url + "/predict", {"companies": [body["statements"]]})
    assert status == 200 and answer["predictions"][0]["class"] in ("sound", "unsound")
    assert stand_in.KEY not in server.output()


def fetch_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.server
def test_requests_waiting_on_dart_leave_the_server_answering_others(start_server, served_model_dir, dart_stand_in):
    server = start_server({"MODEL_DIR": str(served_model_dir), **dart_stand_in.env(DART_TIMEOUT="2")})
    assert fetch_status(server.url + "/companies?q=005930") == 200  # the company list is loaded
    statuses = []
    slow = [
        threading.Thread(
            target=lambda: statuses.append(fetch_status(server.url + "/companies/900003/statements?year=2023"))
        )
        for _ in range(3)
    ]
    for thread in slow:
        thread.start()
    time.sleep(0.3)  # the three are now waiting on DART
    started = time.monotonic()
    assert fetch_status(server.url + "/health") == 200
    assert time.monotonic() - started < 1.0  # answered while DART keeps the others for 2 s
    for thread in slow:
        thread.join()
    assert statuses == [504] * 3
