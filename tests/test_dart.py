"""The company lookup: GET /companies and GET /companies/{code}/statements against a local
stand-in for OpenDART (tests/dart_stand_in.py), and how DART's answers are read."""

import io
import json
import signal
import threading
import time
import urllib.error
import urllib.request
import zipfile
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

import dart_stand_in as stand_in
from harness.server import free_port
from helpers import post_json, schema_validator
from soundness.ratios import STATEMENT_FIELDS
from soundness_api.lookup import KST


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


def statuses_at_once(client, path: str, times: int) -> list[int]:
    """The statuses of `times` GETs of `path` sent at the same moment, each from its own client."""
    barrier, statuses = threading.Barrier(times), []

    def get():
        barrier.wait()
        statuses.append(TestClient(client.app).get(path).status_code)

    threads = [threading.Thread(target=get) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_the_company_list_is_fetched_once_for_many_first_requests(client, dart_stand_in):
    before = dart_stand_in.list_calls()
    assert statuses_at_once(client, "/companies?q=삼성", 8) == [200] * 8
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


def statements_of(client, code: str, year: int = stand_in.YEAR, fs: str | None = None) -> dict:
    response = client.get(f"/companies/{code}/statements", params={"year": year, **({"fs": fs} if fs else {})})
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


def test_dart_request_limit_is_429_with_retry_after_and_dart_is_not_asked_again_that_day(client, dart_stand_in):
    response = client.get("/companies/900002/statements?year=2023")
    assert_error(response, 429, "dart_busy")
    assert 0 < int(response.headers["Retry-After"]) <= 24 * 3600
    before = len(dart_stand_in.calls)
    assert_error(client.get("/companies/005930/statements?year=2019"), 429, "dart_busy")
    assert len(dart_stand_in.calls) == before


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


# ---------------------------------------------------------------- real answers (tests/dart_answers/)


def recorded_values(year: int, fs_div: str) -> dict[str, int]:
    """The nine values as the test reads them from the recorded answer itself."""
    rows = {row["account_nm"]: row for row in stand_in.SAMSUNG[year]["list"] if row["fs_div"] == fs_div}

    def amount(account: str, column: str = "thstrm_amount") -> int:
        return dart_amount(rows[account][column])

    return {
        "total_assets": amount("자산총계"),
        "total_assets_prior": amount("자산총계", "frmtrm_amount"),
        "total_liabilities": amount("부채총계"),
        "total_equity": amount("자본총계"),
        "revenue": amount("매출액"),
        "revenue_prior": amount("매출액", "frmtrm_amount"),
        "operating_income": amount("영업이익"),
        "operating_income_prior": amount("영업이익", "frmtrm_amount"),
        "net_income": amount("당기순이익"),
    }


@pytest.mark.parametrize("year", [2018, 2019])
def test_samsungs_real_answers_give_the_nine_values_to_the_won_consolidated_and_are_scored(client, year):
    body = statements_of(client, "005930", year)
    assert body["statements"] == recorded_values(year, "CFS")
    assert body["missing"] == [] and body["warnings"] == [] and body["market"] == "KOSPI"
    assert (
        body["source"]["fs_div"] == "CFS"
        and body["source"]["rcept_no"] == stand_in.SAMSUNG[year]["list"][0]["rcept_no"]
    )
    assert body["source"]["thstrm_dt"] == f"{year}.01.01 ~ {year}.12.31"
    assert body["source"]["frmtrm_dt"] == f"{year - 1}.01.01 ~ {year - 1}.12.31"
    response = client.post("/predict", json={"companies": [body["statements"]]})
    assert response.status_code == 200 and response.json()["predictions"][0]["class"] in ("sound", "unsound")


def test_2018_is_read_as_the_filing_says_it(client):
    # The amounts of 삼성전자's FY2018 annual report (20190401004781), in won.
    assert statements_of(client, "005930", 2018)["statements"] == {
        "total_assets": 339_357_244_000_000,
        "total_assets_prior": 301_752_090_000_000,
        "total_liabilities": 91_604_067_000_000,
        "total_equity": 247_753_177_000_000,
        "revenue": 243_771_415_000_000,
        "revenue_prior": 239_575_376_000_000,
        "operating_income": 58_886_669_000_000,
        "operating_income_prior": 53_645_038_000_000,
        "net_income": 44_344_857_000_000,
    }


def test_fs_chooses_the_separate_statements_and_anything_else_is_422(client):
    body = statements_of(client, "005930", 2018, fs="OFS")
    assert body["statements"] == recorded_values(2018, "OFS") and body["source"]["fs_div"] == "OFS"
    assert statements_of(client, "005930", 2018, fs="CFS")["statements"] == recorded_values(2018, "CFS")
    error = assert_error(client.get("/companies/005930/statements?year=2018&fs=cfs"), 422, "invalid_fs")
    assert error["details"][0]["field"] == "fs"


def test_both_bases_of_a_year_are_one_dart_call(client, dart_stand_in):
    before = len(dart_stand_in.statement_calls())
    statements_of(client, "005930", 2019, fs="OFS")
    statements_of(client, "005930", 2019)
    assert len(dart_stand_in.statement_calls()) - before == 1


# ---------------------------------------------------------------- the shapes DART gives


def test_a_first_filing_with_keys_absent_blank_and_dash_gives_this_year_and_names_each_prior_one(client):
    body = statements_of(client, "900009")
    this_year = recorded_values(2018, "CFS")
    for field in ("total_assets", "total_liabilities", "total_equity", "revenue", "operating_income", "net_income"):
        assert body["statements"][field] == this_year[field]
    problems = {m["field"]: m["problem"] for m in body["missing"]}
    assert list(problems) == ["total_assets_prior", "revenue_prior", "operating_income_prior"]
    assert "자산총계" in problems["total_assets_prior"] and "frmtrm_amount absent" in problems["total_assets_prior"]
    assert "blank for the prior year" in problems["revenue_prior"]  # ""
    assert "blank for the prior year" in problems["operating_income_prior"]  # "-"
    assert client.post("/predict", json={"companies": [body["statements"]]}).status_code == 200


def test_an_account_listed_twice_is_read_in_darts_order_and_nothing_else_is_lost(client):
    body = statements_of(client, "900010")
    assert body["statements"] == recorded_values(2018, "CFS")  # the whole net income, not the owners' share
    assert body["missing"] == []


@pytest.mark.parametrize("code, told_by", [("900011", "balance sheet"), ("900014", "industry")])
def test_a_financial_company_is_answered_with_a_warning_that_the_model_was_not_made_for_it(client, code, told_by):
    body = statements_of(client, code)
    (warning,) = [w for w in body["warnings"] if w["code"] == "financial_company"]
    assert "financial company" in warning["en"] and "금융회사" in warning["ko"]
    if code == "900011":  # a bank holding company's revenue is its 영업수익
        assert body["statements"]["revenue"] == dart_amount(stand_in.FINANCIAL_AMOUNTS["영업수익"][0])


def test_a_non_financial_holding_company_code_alone_is_no_financial_company():
    from soundness_api.lookup import _financial_industry

    assert not _financial_industry({"induty_code": "64992"})  # holding companies of every kind
    assert _financial_industry({"induty_code": "64110"}) and _financial_industry({"induty_code": "651"})
    assert not _financial_industry({"induty_code": "264"}) and not _financial_industry({})


def test_a_company_with_only_separate_statements_says_so_and_refuses_consolidated(client):
    body = statements_of(client, "900012")
    assert body["source"]["fs_div"] == "OFS" and body["statements"] == recorded_values(2018, "OFS")
    assert [w["code"] for w in body["warnings"]] == ["separate_statements_only"]
    error = assert_error(client.get(f"/companies/900012/statements?year={stand_in.YEAR}&fs=CFS"), 404, "no_statements")
    assert error["details"][0]["field"] == "fs" and "consolidated" in error["message"]


def test_a_march_year_end_shows_in_the_period(client):
    body = statements_of(client, "900013")
    assert body["source"]["thstrm_dt"] == "2023.04.01 ~ 2024.03.31"
    assert body["source"]["frmtrm_dt"] == "2022.04.01 ~ 2023.03.31"
    assert body["market"] == "KOSDAQ"


# ---------------------------------------------------------------- the year


def lookup_on(dart_stand_in, when: datetime, **env):
    from soundness_api.config import Settings
    from soundness_api.lookup import CompanyLookup

    return CompanyLookup(Settings.from_env(dart_stand_in.env(**env)), now=lambda: when)


def test_without_a_year_in_february_the_latest_year_with_a_filing_is_given(dart_stand_in):
    # Asked in February 2025: the 2024 reports are due by the end of March, so 2023's is the latest.
    lookup = lookup_on(dart_stand_in, datetime(2025, 2, 15, 10, tzinfo=KST))
    answer = lookup.statements("005930", None)
    assert answer["year"] == 2023 and answer["statements"]["total_assets"] == filed("00126380", "CFS", "자산총계")
    (note,) = answer["warnings"]
    assert note["code"] == "latest_year_not_filed" and "2024" in note["en"] and "2024년" in note["ko"]
    # In February 2024 the latest finished year, 2023, is filed: no note.
    assert lookup_on(dart_stand_in, datetime(2024, 2, 15, tzinfo=KST)).statements("005930", None)["warnings"] == []


def test_a_year_not_yet_filed_is_said_to_be_not_yet_filed(dart_stand_in):
    from soundness_api.errors import NotFound

    lookup = lookup_on(dart_stand_in, datetime(2025, 2, 15, tzinfo=KST))
    with pytest.raises(NotFound) as refused:
        lookup.statements("005930", "2024")
    assert refused.value.code == "no_filing" and "not on DART yet" in refused.value.message


def test_a_financial_companys_year_before_2023_is_said_to_have_no_structured_statements(client):
    statements_of(client, "900014")
    error = assert_error(client.get("/companies/900014/statements?year=2020"), 404, "no_filing")
    assert "no structured statements of financial companies before 2023" in error["message"]
    assert "it has them for 2023" in error["message"]


# ---------------------------------------------------------------- names and codes as Koreans type them


@pytest.mark.parametrize(
    "query",
    [
        "삼성전자(주)",
        "(주)삼성전자",
        "㈜삼성전자",
        "주식회사 삼성전자",
        "삼성전자 주식회사",
        "Samsung Electronics Co., Ltd.",
        "SAMSUNG ELECTRONICS CO,.LTD",
        "ＳＡＭＳＵＮＧ　ＥＬＥＣＴＲＯＮＩＣＳ",
    ],
)
def test_legal_forms_and_punctuation_do_not_hide_a_company(client, query):
    assert names(client.get("/companies", params={"q": query}))[0] == "삼성전자"


def test_a_preferred_shares_code_finds_the_common_share(client):
    assert names(client.get("/companies", params={"q": "005935"}))[0] == "삼성전자"
    body = statements_of(client, "005935")
    assert body["company"]["stock_code"] == "005930"
    assert [w["code"] for w in body["warnings"]] == ["preferred_share"]


def test_search_looks_only_at_companies_sharing_a_piece_of_the_query():
    from soundness_api.dart import Company
    from soundness_api.lookup import CompanyIndex

    many = [Company(f"{i:08d}", f"회사{i}", None, f"{i:06d}") for i in range(1, 50_000)]
    index = CompanyIndex([*many, Company("00126380", "삼성전자", None, "005930")])
    assert len(index._candidates("삼성전자")) == 1
    assert [c.name for c in index.search("삼성전자")] == ["삼성전자"]


# ---------------------------------------------------------------- DART's limits


def test_a_trickling_answer_is_cut_off_at_the_deadline(client):
    started = time.monotonic()
    assert_error(client.get("/companies/900020/statements?year=2023"), 504, "dart_timeout")
    assert time.monotonic() - started < stand_in.TRICKLE_SECONDS / 2  # DART_TIMEOUT is 1 s


def test_no_redirect_is_followed(client, dart_stand_in):
    for code in ("900021", "900022", "900023"):  # another host, ftp://, a malformed Location
        error = assert_error(client.get(f"/companies/{code}/statements?year=2023"), 502, "dart_bad_answer")
        assert "redirect" in error["message"]
    assert dart_stand_in.elsewhere.calls == []


def test_when_every_dart_slot_is_taken_a_lookup_is_503_at_once_and_searches_still_answer(client):
    from soundness_api.lookup import DART_SLOTS

    assert client.get("/companies?q=삼성").status_code == 200
    waiting = [
        threading.Thread(target=lambda y=year: TestClient(client.app).get(f"/companies/900020/statements?year={y}"))
        for year in range(2019, 2019 + DART_SLOTS)
    ]
    for thread in waiting:
        thread.start()
    time.sleep(0.3)  # each is now waiting on the trickling answer
    started = time.monotonic()
    response = client.get("/companies/000660/statements?year=2023")
    assert_error(response, 503, "lookup_busy")
    assert int(response.headers["Retry-After"]) > 0
    assert names(client.get("/companies", params={"q": "삼성전자"})) == ["삼성전자"]
    assert time.monotonic() - started < 0.5
    for thread in waiting:
        thread.join()


def test_no_data_is_asked_of_dart_once_a_day(client, dart_stand_in):
    before = len(dart_stand_in.statement_calls())
    for _ in range(50):
        assert_error(client.get("/companies/005930/statements?year=2016"), 404, "no_filing")
    assert len(dart_stand_in.statement_calls()) - before == 1


def test_identical_lookups_at_the_same_time_share_one_dart_call(lookup_client, dart_stand_in):
    client = lookup_client(DART_TIMEOUT="5")
    assert client.get("/companies?q=삼성").status_code == 200
    before = len(dart_stand_in.statement_calls())
    assert statuses_at_once(client, "/companies/900018/statements?year=2023", 16) == [200] * 16
    assert len(dart_stand_in.statement_calls()) - before == 1


def test_dart_calls_are_bounded_per_client_and_what_is_kept_is_still_answered(lookup_client, dart_stand_in):
    client = lookup_client(DART_CALLS_PER_CLIENT="3")
    me, other = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.9"}
    assert client.get("/companies?q=삼성", headers=me).status_code == 200  # the list: once per instance, not counted
    before = len(dart_stand_in.calls)
    assert client.get("/companies/005930/statements?year=2018", headers=me).status_code == 200  # + company.json
    assert client.get("/companies/005930/statements?year=2019", headers=me).status_code == 200
    refused = client.get("/companies/005930/statements?year=2023", headers=me)
    assert_error(refused, 429, "lookup_limit")
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert len(dart_stand_in.calls) - before == 3
    assert client.get("/companies/005930/statements?year=2018", headers=me).status_code == 200  # kept
    assert client.get("/companies/005930/statements?year=2023", headers=other).status_code == 200


def test_dart_calls_are_bounded_per_instance(lookup_client):
    client = lookup_client(DART_CALLS_PER_INSTANCE="3")
    statuses = [
        client.get(f"/companies/005930/statements?year={year}", headers={"X-Forwarded-For": f"192.0.2.{year % 250}"})
        for year in (2018, 2019, 2023, 2017)
    ]
    assert [r.status_code for r in statuses[:2]] == [200, 200]
    error = assert_error(statuses[3], 429, "lookup_limit")
    assert "this server" in error["message"]


def test_darts_own_text_is_cut_in_answers_and_logged_once(lookup_client, capfd):
    client = lookup_client(DART_CALLS_PER_CLIENT="1000")
    capfd.readouterr()
    answers = [client.get(f"/companies/900024/statements?year={year}") for year in (2020, 2021, 2022, 2023) * 5]
    for response in answers:
        assert_error(response, 502, "dart_bad_answer")
        assert len(response.content) < 1000
    log = capfd.readouterr().out.splitlines()
    assert sum("DART refused a request with status" in line for line in log) == 1
    assert max(len(line) for line in log) < 1000


@pytest.mark.parametrize(
    "code, field, text", [("900016", "total_assets", "٢٧٣٨٤٢١١٩٦٥٦"), ("900017", "revenue", "111")]
)
def test_amounts_in_other_digits_or_beyond_any_statement_are_named_bad_amounts(client, code, field, text):
    error = assert_error(client.get(f"/companies/{code}/statements?year=2023"), 502, "dart_bad_answer")
    (detail,) = error["details"]
    assert detail["field"] == field and text in detail["problem"] and "not an amount" in detail["problem"]
    assert len(detail["problem"]) < 200


@pytest.mark.parametrize("text", ["٢٧٣٨", "1" * 400 + ".0", "1" * 19])
def test_amounts_are_ascii_digits_and_finite(text):
    from soundness_api.dart import parse_amount

    with pytest.raises(ValueError):
        parse_amount(text)


def test_a_company_list_beyond_its_bounds_is_refused(monkeypatch):
    from soundness_api import dart

    monkeypatch.setattr(dart, "MAX_ENTRIES", 100)
    entries = "".join(
        f"<list><corp_code>{i:08d}</corp_code><corp_name>c</corp_name><stock_code> </stock_code></list>"
        for i in range(101)
    )
    with pytest.raises(dart.DartBadAnswer, match="more than 100 entries"):
        dart.read_company_list(zipped(f"<result>{entries}</result>".encode()))
    monkeypatch.setattr(dart, "MAX_LISTED", 5)
    listed = "".join(
        f"<list><corp_code>{i:08d}</corp_code><corp_name>c</corp_name><stock_code>{i:06d}</stock_code></list>"
        for i in range(6)
    )
    with pytest.raises(dart.DartBadAnswer, match="more than 5 listed"):
        dart.read_company_list(zipped(f"<result>{listed}</result>".encode()))


# ---------------------------------------------------------------- the company's risk over the years


def test_the_history_scores_every_year_dart_has_as_predict_does_with_each_years_source(client, dart_stand_in):
    from soundness_api.lookup import FIRST_YEAR, latest_finished_year

    before = len(dart_stand_in.statement_calls())
    response = client.get("/companies/005930/history")
    assert response.status_code == 200, response.json()
    history = response.json()
    assert [entry["year"] for entry in history["years"]] == [2018, 2019, stand_in.YEAR]
    everything = range(FIRST_YEAR, latest_finished_year() + 1)
    assert sorted([a["year"] for a in history["absent"]] + [2018, 2019, stand_in.YEAR]) == list(everything)
    assert all(a["code"] == "no_filing" for a in history["absent"])
    assert len(dart_stand_in.statement_calls()) - before == len(everything)  # one call a year
    rows = [
        {"id": str(entry["year"]), **entry["statements"], "currency": "KRW", "market": "KOSPI"}
        for entry in history["years"]
    ]
    predicted = client.post("/predict", json={"companies": rows}).json()
    assert [entry["prediction"] for entry in history["years"]] == predicted["predictions"]
    assert history["model"] == predicted["model"]
    assert history["years"][0]["source"]["rcept_no"] == "20190401004781"
    assert history["years"][0]["statements"] == recorded_values(2018, "CFS")
    again = len(dart_stand_in.statement_calls())
    assert client.get("/companies/005930/history").json() == history
    assert len(dart_stand_in.statement_calls()) == again  # kept


def test_a_history_beyond_the_clients_budget_is_429_before_any_dart_call(lookup_client, dart_stand_in):
    client = lookup_client(DART_CALLS_PER_CLIENT="5")
    assert client.get("/companies?q=삼성").status_code == 200
    before = len(dart_stand_in.calls)
    assert_error(client.get("/companies/009150/history"), 429, "lookup_limit")
    assert len(dart_stand_in.calls) == before


def test_a_financial_companys_history_carries_the_warning(client):
    history = client.get("/companies/900011/history").json()
    (year,) = history["years"]
    assert "financial_company" in [w["code"] for w in year["warnings"]]


def test_the_history_is_as_documented(client):
    document = client.get("/openapi.json").json()
    validator = schema_validator(document, "History")
    assert not [str(e) for e in validator.iter_errors(client.get("/companies/005930/history").json())]


@pytest.mark.server
def test_sigterm_during_a_trickling_dart_answer_ends_within_the_deadline(start_server, served_model_dir, dart_stand_in):
    server = start_server({"MODEL_DIR": str(served_model_dir), **dart_stand_in.env(DART_TIMEOUT="2")})
    assert fetch_status(server.url + "/companies?q=005930") == 200
    statuses = []
    waiting = threading.Thread(
        target=lambda: statuses.append(fetch_status(server.url + "/companies/900020/statements?year=2023"))
    )
    waiting.start()
    time.sleep(0.5)  # the lookup is now receiving DART's answer a byte at a time
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=stand_in.TRICKLE_SECONDS + 10)
    exited = time.monotonic() - signalled
    waiting.join()
    assert statuses == [504]  # answered at the deadline, not cut off by the shutdown
    assert exited < stand_in.TRICKLE_SECONDS - 2, f"exited {exited:.1f} s after SIGTERM"
